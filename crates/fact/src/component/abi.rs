//! The canonical ABI on the host side: lifting values out of a guest (flat core values or
//! linear memory) and lowering values into one, for Rust types ([`Lift`], [`Lower`]) and
//! dynamic [`Val`](super::Val)s. The rules and traps are the adapters' (see
//! `fact_environ::component::adapt`); the messages of a few host-side failures follow the
//! conformance suites written for Wasmtime.

use crate::store::StoreOpaque;
use crate::{Func as CoreFunc, Memory};
use anyhow::{anyhow, bail, Result};
use fact_environ::component::{
    discriminant_size, flags_size, ComponentInstanceIndex, ComponentTypes, FlatContext, FuncTypeId,
    InterfaceType, StringEncoding, TypeId, MAX_STRING_BYTE_LENGTH, UTF16_TAG,
};
use fact_environ::Trap;
use fact_runtime::ValRaw;

/// The canonical options of one side of a call, resolved to store objects.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Options {
    pub instance: ComponentInstanceIndex,
    pub memory: Option<Memory>,
    pub realloc: Option<CoreFunc>,
    pub post_return: Option<CoreFunc>,
    pub encoding: StringEncoding,
}

/// The shape of calls to one function, computed once per function rather than per call:
/// the parameter and result tuples, the number of core values each way, and the
/// `(align, size)` of a tuple that travels through memory.
#[derive(Copy, Clone, Debug)]
pub(crate) struct CallShape {
    pub params: TypeId,
    pub results: TypeId,
    /// Core parameters (one pointer when spilled; with the return pointer when lowering).
    pub flat_params: usize,
    pub flat_results: usize,
    pub params_in_memory: Option<(u32, u32)>,
    pub results_in_memory: Option<(u32, u32)>,
}

impl CallShape {
    pub fn new(types: &ComponentTypes, ty: FuncTypeId, context: FlatContext) -> CallShape {
        let ft = types.func(ty);
        let sig = types.flat_signature(ty, context);
        let layout = |t: TypeId| {
            let l = types.layout(t);
            (l.align, l.size)
        };
        CallShape {
            params: ft.params_tuple,
            results: ft.results_tuple,
            flat_params: sig.params.len(),
            flat_results: sig.results.len(),
            params_in_memory: sig.params_indirect.then(|| layout(ft.params_tuple)),
            results_in_memory: sig.results_indirect.then(|| layout(ft.results_tuple)),
        }
    }
}

/// Everything lifting and lowering need: the store, the options, the types, and the
/// component instance (for handle tables).
pub struct Context<'a> {
    pub(crate) store: &'a mut StoreOpaque,
    pub(crate) opts: &'a Options,
    pub(crate) types: &'a ComponentTypes,
    /// Index of the component instance state in the store.
    pub(crate) state: usize,
}

fn trap(t: Trap) -> anyhow::Error {
    anyhow::Error::new(t)
}

fn trap_msg(t: Trap, msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(t).context(msg.into())
}

impl Context<'_> {
    fn memory(&self) -> Result<Memory> {
        self.opts
            .memory
            .ok_or_else(|| anyhow!("this function's canonical options have no memory"))
    }

    /// The guest memory's bytes.
    pub(crate) fn mem(&mut self) -> Result<&mut [u8]> {
        let m = self.memory()?;
        let id = m.id_in(self.store)?;
        Ok(self.store.runtime.memories[id].data_mut())
    }

    fn slice(&mut self, ptr: u32, len: usize, what: &str) -> Result<&mut [u8]> {
        let mem = self.mem()?;
        let end = (ptr as usize).checked_add(len);
        match end {
            Some(end) if end <= mem.len() => Ok(&mut mem[ptr as usize..end]),
            _ => Err(trap_msg(
                Trap::MemoryOutOfBounds,
                format!("{what} out of bounds of memory"),
            )),
        }
    }

    pub(crate) fn read<const N: usize>(&mut self, ptr: u32) -> Result<[u8; N]> {
        Ok(self.slice(ptr, N, "pointer")?.try_into().unwrap())
    }

    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.slice(ptr, bytes.len(), "pointer")?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// Calls the guest's `realloc` and checks the result.
    pub(crate) fn realloc(
        &mut self,
        old: u32,
        old_size: u32,
        align: u32,
        size: u32,
    ) -> Result<u32> {
        let f = self
            .opts
            .realloc
            .ok_or_else(|| anyhow!("this function's canonical options have no realloc"))?;
        let func_ref = f.func_ref(self.store)?;
        let mut raw = [
            ValRaw::i32(old as i32),
            ValRaw::i32(old_size as i32),
            ValRaw::i32(align as i32),
            ValRaw::i32(size as i32),
        ];
        // SAFETY: realloc has type (i32, i32, i32, i32) -> i32, checked by validation.
        let called = unsafe { crate::func::invoke_wasm(self.store, func_ref, &mut raw) };
        super::contain_exception(self.store, called)?;
        let ptr = raw[0].get_i32() as u32;
        if !ptr.is_multiple_of(align) {
            return Err(trap(Trap::ReallocNotAligned));
        }
        let len = self.mem()?.len() as u64;
        if u64::from(ptr) + u64::from(size) > len {
            return Err(trap(Trap::ReallocOutOfBounds));
        }
        Ok(ptr)
    }
}

/// A Rust type that corresponds to an interface type.
pub trait ComponentType {
    /// Checks that `ty` is the interface type this Rust type represents.
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()>;

    /// Whether this is `()`, which stands for a missing payload.
    #[doc(hidden)]
    const IS_UNIT: bool = false;
}

/// Values that can be passed into a guest.
pub trait Lower: ComponentType {
    /// Appends the flat core values of `self` (of type `ty`).
    #[doc(hidden)]
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()>;
    /// Stores `self` (of type `ty`) at `ptr` in the guest's memory.
    #[doc(hidden)]
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()>;
}

impl<T: ComponentType + ?Sized> ComponentType for &T {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        T::typecheck(types, ty)
    }
    const IS_UNIT: bool = T::IS_UNIT;
}

impl<T: Lower + ?Sized> Lower for &T {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        (**self).lower_flat(cx, ty, out)
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        (**self).store(cx, ty, ptr)
    }
}

/// Values that can be received from a guest.
pub trait Lift: ComponentType + Sized {
    /// Reads a value of type `ty` from flat core values.
    #[doc(hidden)]
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self>;
    /// Loads a value of type `ty` from `ptr` in the guest's memory.
    #[doc(hidden)]
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self>;
    /// The value of a missing payload (only `()` has one).
    #[doc(hidden)]
    fn lift_unit() -> Result<Self> {
        bail!("type mismatch: a case without payload has no value")
    }
}

pub fn next(src: &mut std::slice::Iter<'_, ValRaw>) -> Result<ValRaw> {
    src.next()
        .copied()
        .ok_or_else(|| anyhow!("internal error: too few core values"))
}

fn mismatch(types: &ComponentTypes, ty: TypeId, rust: &str) -> anyhow::Error {
    anyhow!(
        "type mismatch: the interface type is {}, not {rust}",
        types.display(ty)
    )
}

// ---- Scalars ----

macro_rules! scalars {
    ($($rust:ty => $it:ident, $size:literal, $to:expr, $from:expr;)*) => {$(
        impl ComponentType for $rust {
            fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
                match types.get(ty) {
                    InterfaceType::$it => Ok(()),
                    _ => Err(mismatch(types, ty, stringify!($rust))),
                }
            }
        }
        impl Lower for $rust {
            fn lower_flat(&self, _: &mut Context<'_>, _: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
                let f: fn($rust) -> ValRaw = $to;
                out.push(f(*self));
                Ok(())
            }
            fn store(&self, cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<()> {
                cx.write(ptr, &self.to_le_bytes())
            }
        }
        impl Lift for $rust {
            fn lift_flat(_: &mut Context<'_>, _: TypeId, src: &mut std::slice::Iter<'_, ValRaw>) -> Result<Self> {
                let f: fn(ValRaw) -> $rust = $from;
                Ok(f(next(src)?))
            }
            fn load(cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<Self> {
                Ok(<$rust>::from_le_bytes(cx.read::<$size>(ptr)?))
            }
        }
    )*};
}

// Narrow integers lifted from core values ignore their high bits.
scalars! {
    u8 => U8, 1, |v| ValRaw::i32(v.into()), |r| r.get_i32() as u8;
    i8 => S8, 1, |v| ValRaw::i32(v.into()), |r| r.get_i32() as i8;
    u16 => U16, 2, |v| ValRaw::i32(v.into()), |r| r.get_i32() as u16;
    i16 => S16, 2, |v| ValRaw::i32(v.into()), |r| r.get_i32() as i16;
    u32 => U32, 4, |v| ValRaw::i32(v as i32), |r| r.get_i32() as u32;
    i32 => S32, 4, ValRaw::i32, |r| r.get_i32();
    u64 => U64, 8, |v| ValRaw::i64(v as i64), |r| r.get_i64() as u64;
    i64 => S64, 8, ValRaw::i64, |r| r.get_i64();
    f32 => F32, 4, |v| ValRaw::f32(v.to_bits()), |r| f32::from_bits(r.get_f32());
    f64 => F64, 8, |v| ValRaw::f64(v.to_bits()), |r| f64::from_bits(r.get_f64());
}

impl ComponentType for bool {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::Bool => Ok(()),
            _ => Err(mismatch(types, ty, "bool")),
        }
    }
}

impl Lower for bool {
    fn lower_flat(&self, _: &mut Context<'_>, _: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        out.push(ValRaw::i32(*self as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<()> {
        cx.write(ptr, &[*self as u8])
    }
}

impl Lift for bool {
    fn lift_flat(
        _: &mut Context<'_>,
        _: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        Ok(next(src)?.get_i32() != 0)
    }
    fn load(cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<Self> {
        Ok(cx.read::<1>(ptr)?[0] != 0)
    }
}

fn to_char(i: u32) -> Result<char> {
    char::from_u32(i).ok_or_else(|| trap(Trap::InvalidChar))
}

impl ComponentType for char {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::Char => Ok(()),
            _ => Err(mismatch(types, ty, "char")),
        }
    }
}

impl Lower for char {
    fn lower_flat(&self, _: &mut Context<'_>, _: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        out.push(ValRaw::i32(*self as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<()> {
        cx.write(ptr, &(*self as u32).to_le_bytes())
    }
}

impl Lift for char {
    fn lift_flat(
        _: &mut Context<'_>,
        _: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        to_char(next(src)?.get_i32() as u32)
    }
    fn load(cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<Self> {
        to_char(u32::from_le_bytes(cx.read::<4>(ptr)?))
    }
}

// ---- Strings ----

/// Stores a host string in the guest with the spec's allocation strategy for a UTF-8
/// source; returns `(ptr, tagged length)`.
pub(crate) fn store_string(cx: &mut Context<'_>, s: &str) -> Result<(u32, u32)> {
    let too_long = || trap(Trap::StringTooLong);
    let len = u32::try_from(s.len()).map_err(|_| too_long())?;
    match cx.opts.encoding {
        StringEncoding::Utf8 => {
            if len > MAX_STRING_BYTE_LENGTH {
                return Err(too_long());
            }
            let ptr = cx.realloc(0, 0, 1, len)?;
            cx.write(ptr, s.as_bytes())?;
            Ok((ptr, len))
        }
        StringEncoding::Utf16 => {
            let worst = 2 * u64::from(len);
            if worst > u64::from(MAX_STRING_BYTE_LENGTH) {
                return Err(too_long());
            }
            let mut ptr = cx.realloc(0, 0, 2, worst as u32)?;
            let bytes: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            cx.write(ptr, &bytes)?;
            if (bytes.len() as u64) < worst {
                ptr = cx.realloc(ptr, worst as u32, 2, bytes.len() as u32)?;
            }
            Ok((ptr, bytes.len() as u32 / 2))
        }
        StringEncoding::CompactUtf16 => {
            let mut ptr = cx.realloc(0, 0, 2, len)?;
            let latin1: Option<Vec<u8>> =
                s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
            match latin1 {
                Some(bytes) => {
                    cx.write(ptr, &bytes)?;
                    if (bytes.len() as u32) < len {
                        ptr = cx.realloc(ptr, len, 2, bytes.len() as u32)?;
                    }
                    Ok((ptr, bytes.len() as u32))
                }
                None => {
                    let worst = 2 * u64::from(len);
                    if worst > u64::from(MAX_STRING_BYTE_LENGTH) {
                        return Err(too_long());
                    }
                    ptr = cx.realloc(ptr, len, 2, worst as u32)?;
                    let bytes: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
                    cx.write(ptr, &bytes)?;
                    if (bytes.len() as u64) < worst {
                        ptr = cx.realloc(ptr, worst as u32, 2, bytes.len() as u32)?;
                    }
                    Ok((ptr, (bytes.len() as u32 / 2) | UTF16_TAG))
                }
            }
        }
    }
}

/// Loads a guest string.
pub(crate) fn load_string(cx: &mut Context<'_>, ptr: u32, tagged: u32) -> Result<String> {
    let encoding = cx.opts.encoding;
    let (align, bytes, utf16) = match encoding {
        StringEncoding::Utf8 => (1, u64::from(tagged), false),
        StringEncoding::Utf16 => (2, 2 * u64::from(tagged), true),
        StringEncoding::CompactUtf16 if tagged & UTF16_TAG != 0 => {
            (2, 2 * u64::from(tagged ^ UTF16_TAG), true)
        }
        StringEncoding::CompactUtf16 => (2, u64::from(tagged), false),
    };
    // `load_string_from_range`'s order: the length limit, the alignment, the bounds.
    if bytes > u64::from(fact_environ::component::types::MAX_STRING_BYTE_LENGTH) {
        return Err(trap(Trap::StringTooLong));
    }
    if !ptr.is_multiple_of(align) {
        return Err(trap(Trap::UnalignedPointer));
    }
    let mem = cx.mem()?;
    if u64::from(ptr) + bytes > mem.len() as u64 {
        return Err(trap_msg(
            Trap::StringOutOfBounds,
            "string pointer/length out of bounds of memory",
        ));
    }
    let raw = &mem[ptr as usize..(u64::from(ptr) + bytes) as usize];
    match (encoding, utf16) {
        (_, true) => {
            let units: Vec<u16> = raw
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|e| trap_msg(Trap::InvalidUtf16, e.to_string()))
        }
        (StringEncoding::Utf8, false) => std::str::from_utf8(raw)
            .map(str::to_string)
            .map_err(|e| trap_msg(Trap::InvalidUtf8, e.to_string())),
        (_, false) => Ok(raw.iter().map(|b| char::from(*b)).collect()),
    }
}

impl ComponentType for String {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::String => Ok(()),
            _ => Err(mismatch(types, ty, "a string")),
        }
    }
}

impl ComponentType for str {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        String::typecheck(types, ty)
    }
}

impl Lower for str {
    fn lower_flat(&self, cx: &mut Context<'_>, _: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        let (ptr, len) = store_string(cx, self)?;
        out.push(ValRaw::i32(ptr as i32));
        out.push(ValRaw::i32(len as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<()> {
        let (p, len) = store_string(cx, self)?;
        cx.write(ptr, &p.to_le_bytes())?;
        cx.write(ptr + 4, &len.to_le_bytes())
    }
}

impl Lower for String {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        self.as_str().lower_flat(cx, ty, out)
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        self.as_str().store(cx, ty, ptr)
    }
}

impl Lift for String {
    fn lift_flat(
        cx: &mut Context<'_>,
        _: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        let ptr = next(src)?.get_i32() as u32;
        let len = next(src)?.get_i32() as u32;
        load_string(cx, ptr, len)
    }
    fn load(cx: &mut Context<'_>, _: TypeId, ptr: u32) -> Result<Self> {
        let p = u32::from_le_bytes(cx.read::<4>(ptr)?);
        let len = u32::from_le_bytes(cx.read::<4>(ptr + 4)?);
        load_string(cx, p, len)
    }
}

// ---- Lists ----

pub(crate) fn list_elem(types: &ComponentTypes, ty: TypeId) -> Result<TypeId> {
    match types.get(ty) {
        InterfaceType::List(e) => Ok(*e),
        _ => Err(mismatch(types, ty, "a list")),
    }
}

/// Allocates a guest list of `len` elements of `elem`; returns its address.
pub(crate) fn alloc_list(cx: &mut Context<'_>, elem: TypeId, len: usize) -> Result<u32> {
    let l = cx.types.layout(elem).clone();
    let bytes = (len as u64) * u64::from(l.size);
    if bytes >= 1 << 32 {
        bail!("list of {len} elements is too large for a 32-bit memory");
    }
    cx.realloc(0, 0, l.align, bytes as u32)
}

/// Checks a guest list's range; returns its element size.
pub(crate) fn check_list(cx: &mut Context<'_>, elem: TypeId, ptr: u32, len: u32) -> Result<u32> {
    let l = cx.types.layout(elem).clone();
    if !ptr.is_multiple_of(l.align) {
        return Err(trap(Trap::UnalignedPointer));
    }
    let end = u64::from(ptr) + u64::from(len) * u64::from(l.size);
    if end > cx.mem()?.len() as u64 {
        return Err(trap_msg(
            Trap::ListOutOfBounds,
            "list pointer/length out of bounds of memory",
        ));
    }
    Ok(l.size)
}

impl<T: ComponentType> ComponentType for [T] {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        T::typecheck(types, list_elem(types, ty)?)
    }
}

impl<T: ComponentType> ComponentType for Vec<T> {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        <[T]>::typecheck(types, ty)
    }
}

fn store_list<T: Lower>(cx: &mut Context<'_>, ty: TypeId, items: &[T]) -> Result<(u32, u32)> {
    let elem = list_elem(cx.types, ty)?;
    let ptr = alloc_list(cx, elem, items.len())?;
    let size = cx.types.layout(elem).size;
    for (i, item) in items.iter().enumerate() {
        item.store(cx, elem, ptr + i as u32 * size)?;
    }
    Ok((ptr, items.len() as u32))
}

impl<T: Lower> Lower for [T] {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        let (ptr, len) = store_list(cx, ty, self)?;
        out.push(ValRaw::i32(ptr as i32));
        out.push(ValRaw::i32(len as i32));
        Ok(())
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        let (p, len) = store_list(cx, ty, self)?;
        cx.write(ptr, &p.to_le_bytes())?;
        cx.write(ptr + 4, &len.to_le_bytes())
    }
}

impl<T: Lower> Lower for Vec<T> {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        self.as_slice().lower_flat(cx, ty, out)
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        self.as_slice().store(cx, ty, ptr)
    }
}

fn load_list<T: Lift>(cx: &mut Context<'_>, ty: TypeId, ptr: u32, len: u32) -> Result<Vec<T>> {
    let elem = list_elem(cx.types, ty)?;
    let size = check_list(cx, elem, ptr, len)?;
    (0..len)
        .map(|i| T::load(cx, elem, ptr + i * size))
        .collect()
}

impl<T: Lift> Lift for Vec<T> {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        let ptr = next(src)?.get_i32() as u32;
        let len = next(src)?.get_i32() as u32;
        load_list(cx, ty, ptr, len)
    }
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        let p = u32::from_le_bytes(cx.read::<4>(ptr)?);
        let len = u32::from_le_bytes(cx.read::<4>(ptr + 4)?);
        load_list(cx, ty, p, len)
    }
}

// ---- Variants ----

/// Helpers for variant-like types, used by `Option`, `Result`, `Val` and derived types.
#[doc(hidden)]
pub mod variant {
    use super::*;

    /// The cases of a variant-like type.
    pub fn cases(types: &ComponentTypes, ty: TypeId) -> Result<Vec<Option<TypeId>>> {
        types
            .cases(ty)
            .ok_or_else(|| anyhow!("type mismatch: {} is not a variant", types.display(ty)))
    }

    /// Lowers case `case` with `payload` to flat values: discriminant, payload, zeros.
    pub fn lower_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        case: u32,
        payload: impl FnOnce(&mut Context<'_>, Option<TypeId>, &mut Vec<ValRaw>) -> Result<()>,
        out: &mut Vec<ValRaw>,
    ) -> Result<()> {
        let cases = cases(cx.types, ty)?;
        let slots = cx.types.layout(ty).flat.len();
        let start = out.len();
        out.push(ValRaw::i32(case as i32));
        let t = *cases
            .get(case as usize)
            .ok_or_else(|| anyhow!("internal error: no case {case}"))?;
        payload(cx, t, out)?;
        out.resize(start + slots, ValRaw::default());
        Ok(())
    }

    /// Stores case `case` with `payload` at `ptr`.
    pub fn store(
        cx: &mut Context<'_>,
        ty: TypeId,
        case: u32,
        ptr: u32,
        payload: impl FnOnce(&mut Context<'_>, Option<TypeId>, u32) -> Result<()>,
    ) -> Result<()> {
        let cases = cases(cx.types, ty)?;
        match discriminant_size(cases.len()) {
            1 => cx.write(ptr, &[case as u8])?,
            2 => cx.write(ptr, &(case as u16).to_le_bytes())?,
            _ => cx.write(ptr, &case.to_le_bytes())?,
        }
        let off = cx.types.payload_offset(ty);
        let t = *cases
            .get(case as usize)
            .ok_or_else(|| anyhow!("internal error: no case {case}"))?;
        payload(cx, t, ptr + off)
    }

    /// Lifts from flat values: the checked discriminant, then the payload, consuming
    /// every slot.
    pub fn lift_flat<R>(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
        payload: impl FnOnce(
            &mut Context<'_>,
            u32,
            Option<TypeId>,
            &mut std::slice::Iter<'_, ValRaw>,
        ) -> Result<R>,
    ) -> Result<R> {
        let cases = cases(cx.types, ty)?;
        let slots = cx.types.layout(ty).flat.len();
        let values: Vec<ValRaw> = (0..slots).map(|_| next(src)).collect::<Result<_>>()?;
        let case = values[0].get_i32() as u32;
        let t = *cases
            .get(case as usize)
            .ok_or_else(|| trap(Trap::InvalidDiscriminant))?;
        let mut rest = values[1..].iter();
        payload(cx, case, t, &mut rest)
    }

    /// Loads from memory: the checked discriminant, then the payload.
    pub fn load<R>(
        cx: &mut Context<'_>,
        ty: TypeId,
        ptr: u32,
        payload: impl FnOnce(&mut Context<'_>, u32, Option<TypeId>, u32) -> Result<R>,
    ) -> Result<R> {
        let cases = cases(cx.types, ty)?;
        let case = match discriminant_size(cases.len()) {
            1 => u32::from(cx.read::<1>(ptr)?[0]),
            2 => u32::from(u16::from_le_bytes(cx.read::<2>(ptr)?)),
            _ => u32::from_le_bytes(cx.read::<4>(ptr)?),
        };
        let t = *cases
            .get(case as usize)
            .ok_or_else(|| trap(Trap::InvalidDiscriminant))?;
        let off = cx.types.payload_offset(ty);
        payload(cx, case, t, ptr + off)
    }
}

impl ComponentType for () {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::Tuple(t) if t.is_empty() => Ok(()),
            _ => Err(mismatch(types, ty, "()")),
        }
    }
    const IS_UNIT: bool = true;
}

/// Type-checks an optional payload: `()` stands for a missing one.
fn check_payload<T: ComponentType>(types: &ComponentTypes, t: Option<TypeId>) -> Result<()> {
    match t {
        Some(t) => T::typecheck(types, t),
        None if T::IS_UNIT => Ok(()),
        None => bail!("type mismatch: a case without payload is not a Rust value"),
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::Option(t) => T::typecheck(types, *t),
            _ => Err(mismatch(types, ty, "an option")),
        }
    }
}

impl<T: Lower> Lower for Option<T> {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        variant::lower_flat(
            cx,
            ty,
            self.is_some() as u32,
            |cx, t, out| match (self, t) {
                (Some(v), Some(t)) => v.lower_flat(cx, t, out),
                _ => Ok(()),
            },
            out,
        )
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        variant::store(cx, ty, self.is_some() as u32, ptr, |cx, t, p| {
            match (self, t) {
                (Some(v), Some(t)) => v.store(cx, t, p),
                _ => Ok(()),
            }
        })
    }
}

impl<T: Lift> Lift for Option<T> {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        variant::lift_flat(cx, ty, src, |cx, case, t, src| match (case, t) {
            (1, Some(t)) => Ok(Some(T::lift_flat(cx, t, src)?)),
            _ => Ok(None),
        })
    }
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        variant::load(cx, ty, ptr, |cx, case, t, p| match (case, t) {
            (1, Some(t)) => Ok(Some(T::load(cx, t, p)?)),
            _ => Ok(None),
        })
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for Result<T, E> {
    fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
        match types.get(ty) {
            InterfaceType::Result { ok, err } => {
                check_payload::<T>(types, *ok)?;
                check_payload::<E>(types, *err)
            }
            _ => Err(mismatch(types, ty, "a result")),
        }
    }
}

/// Lowers an optional payload (`()` for none).
fn lower_payload<T: Lower>(
    v: &T,
    cx: &mut Context<'_>,
    t: Option<TypeId>,
    out: &mut Vec<ValRaw>,
) -> Result<()> {
    match t {
        Some(t) => v.lower_flat(cx, t, out),
        None => Ok(()),
    }
}

fn store_payload<T: Lower>(v: &T, cx: &mut Context<'_>, t: Option<TypeId>, p: u32) -> Result<()> {
    match t {
        Some(t) => v.store(cx, t, p),
        None => Ok(()),
    }
}

impl<T: Lower, E: Lower> Lower for Result<T, E> {
    fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
        variant::lower_flat(
            cx,
            ty,
            self.is_err() as u32,
            |cx, t, out| match self {
                Ok(v) => lower_payload(v, cx, t, out),
                Err(e) => lower_payload(e, cx, t, out),
            },
            out,
        )
    }
    fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
        variant::store(cx, ty, self.is_err() as u32, ptr, |cx, t, p| match self {
            Ok(v) => store_payload(v, cx, t, p),
            Err(e) => store_payload(e, cx, t, p),
        })
    }
}

impl<T: Lift, E: Lift> Lift for Result<T, E> {
    fn lift_flat(
        cx: &mut Context<'_>,
        ty: TypeId,
        src: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        variant::lift_flat(cx, ty, src, |cx, case, t, src| {
            Ok(match (case, t) {
                (0, Some(t)) => Ok(T::lift_flat(cx, t, src)?),
                (0, None) => Ok(T::lift_unit()?),
                (_, Some(t)) => Err(E::lift_flat(cx, t, src)?),
                (_, None) => Err(E::lift_unit()?),
            })
        })
    }
    fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
        variant::load(cx, ty, ptr, |cx, case, t, p| {
            Ok(match (case, t) {
                (0, Some(t)) => Ok(T::load(cx, t, p)?),
                (0, None) => Ok(T::lift_unit()?),
                (_, Some(t)) => Err(E::load(cx, t, p)?),
                (_, None) => Err(E::lift_unit()?),
            })
        })
    }
}

// ---- Records and tuples ----

/// Helpers for record-like types, used by tuples, `Val` and derived records.
#[doc(hidden)]
pub mod record {
    use super::*;

    /// The field types of a record or tuple, viewed in place (no allocation: this is on
    /// the path of every call).
    #[derive(Copy, Clone)]
    pub enum Fields<'a> {
        Record(&'a [(String, TypeId)]),
        Tuple(&'a [TypeId]),
    }

    impl<'a> Fields<'a> {
        pub fn len(&self) -> usize {
            match self {
                Fields::Record(f) => f.len(),
                Fields::Tuple(t) => t.len(),
            }
        }

        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        pub fn iter(&self) -> FieldTypes<'a> {
            let (record, tuple) = match *self {
                Fields::Record(f) => (f, &[][..]),
                Fields::Tuple(t) => (&[][..], t),
            };
            let ty: fn(&(String, TypeId)) -> TypeId = |(_, t)| *t;
            record.iter().map(ty).chain(tuple.iter().copied())
        }
    }

    impl std::ops::Index<usize> for Fields<'_> {
        type Output = TypeId;
        fn index(&self, i: usize) -> &TypeId {
            match self {
                Fields::Record(f) => &f[i].1,
                Fields::Tuple(t) => &t[i],
            }
        }
    }

    /// The iterator over [`Fields`].
    pub type FieldTypes<'a> = std::iter::Chain<
        std::iter::Map<std::slice::Iter<'a, (String, TypeId)>, fn(&(String, TypeId)) -> TypeId>,
        std::iter::Copied<std::slice::Iter<'a, TypeId>>,
    >;

    impl<'a> IntoIterator for Fields<'a> {
        type Item = TypeId;
        type IntoIter = FieldTypes<'a>;
        fn into_iter(self) -> FieldTypes<'a> {
            self.iter()
        }
    }

    /// The field types of a record or tuple.
    pub fn fields(types: &ComponentTypes, ty: TypeId) -> Result<Fields<'_>> {
        match types.get(ty) {
            InterfaceType::Record(f) => Ok(Fields::Record(f)),
            InterfaceType::Tuple(t) => Ok(Fields::Tuple(t)),
            _ => Err(mismatch(types, ty, "a record or tuple")),
        }
    }

    /// The field names of a record.
    pub fn names(types: &ComponentTypes, ty: TypeId) -> Result<Vec<String>> {
        match types.get(ty) {
            InterfaceType::Record(f) => Ok(f.iter().map(|(n, _)| n.clone()).collect()),
            _ => Err(mismatch(types, ty, "a record")),
        }
    }

    /// The address of each field of a record or tuple at `ptr`.
    pub fn offsets(types: &ComponentTypes, ty: TypeId, ptr: u32) -> Result<Vec<u32>> {
        let fields = fields(types, ty)?;
        Ok(types
            .field_offsets(fields.iter())
            .into_iter()
            .map(|o| ptr + o)
            .collect())
    }
}

macro_rules! tuples {
    ($($n:literal: $($t:ident $i:tt),*;)*) => {$(
        impl<$($t: ComponentType),*> ComponentType for ($($t,)*) {
            fn typecheck(types: &ComponentTypes, ty: TypeId) -> Result<()> {
                let fields = match types.get(ty) {
                    InterfaceType::Tuple(t) => t.to_vec(),
                    _ => return Err(mismatch(types, ty, "a tuple")),
                };
                if fields.len() != $n {
                    bail!("type mismatch: {} is not a tuple of {} values", types.display(ty), $n);
                }
                $($t::typecheck(types, fields[$i])?;)*
                Ok(())
            }
        }
        impl<$($t: Lower),*> Lower for ($($t,)*) {
            fn lower_flat(&self, cx: &mut Context<'_>, ty: TypeId, out: &mut Vec<ValRaw>) -> Result<()> {
                let fields = record::fields(cx.types, ty)?;
                $(self.$i.lower_flat(cx, fields[$i], out)?;)*
                Ok(())
            }
            fn store(&self, cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<()> {
                let fields = record::fields(cx.types, ty)?;
                let offsets = record::offsets(cx.types, ty, ptr)?;
                $(self.$i.store(cx, fields[$i], offsets[$i])?;)*
                Ok(())
            }
        }
        impl<$($t: Lift),*> Lift for ($($t,)*) {
            fn lift_flat(cx: &mut Context<'_>, ty: TypeId, src: &mut std::slice::Iter<'_, ValRaw>) -> Result<Self> {
                let fields = record::fields(cx.types, ty)?;
                Ok(($($t::lift_flat(cx, fields[$i], src)?,)*))
            }
            fn load(cx: &mut Context<'_>, ty: TypeId, ptr: u32) -> Result<Self> {
                let fields = record::fields(cx.types, ty)?;
                let offsets = record::offsets(cx.types, ty, ptr)?;
                Ok(($($t::load(cx, fields[$i], offsets[$i])?,)*))
            }
        }
    )*};
}

tuples! {
    1: A 0;
    2: A 0, B 1;
    3: A 0, B 1, C 2;
    4: A 0, B 1, C 2, D 3;
    5: A 0, B 1, C 2, D 3, E 4;
    6: A 0, B 1, C 2, D 3, E 4, F 5;
    7: A 0, B 1, C 2, D 3, E 4, F 5, G 6;
    8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7;
}

impl Lower for () {
    fn lower_flat(&self, _: &mut Context<'_>, _: TypeId, _: &mut Vec<ValRaw>) -> Result<()> {
        Ok(())
    }
    fn store(&self, _: &mut Context<'_>, _: TypeId, _: u32) -> Result<()> {
        Ok(())
    }
}

impl Lift for () {
    fn lift_flat(
        _: &mut Context<'_>,
        _: TypeId,
        _: &mut std::slice::Iter<'_, ValRaw>,
    ) -> Result<Self> {
        Ok(())
    }
    fn load(_: &mut Context<'_>, _: TypeId, _: u32) -> Result<Self> {
        Ok(())
    }
    fn lift_unit() -> Result<Self> {
        Ok(())
    }
}

// ---- Flags ----

/// Helpers for flags, used by `Val` and derived flags.
#[doc(hidden)]
pub mod flags {
    use super::*;

    pub fn labels(types: &ComponentTypes, ty: TypeId) -> Result<Vec<String>> {
        match types.get(ty) {
            InterfaceType::Flags(l) => Ok(l.to_vec()),
            _ => Err(mismatch(types, ty, "flags")),
        }
    }

    /// The bits of a flags value, with undefined bits cleared.
    pub fn mask(n: usize, bits: u32) -> u32 {
        if n >= 32 {
            bits
        } else {
            bits & ((1 << n) - 1)
        }
    }

    pub fn store(cx: &mut Context<'_>, n: usize, bits: u32, ptr: u32) -> Result<()> {
        match flags_size(n) {
            0 => Ok(()),
            1 => cx.write(ptr, &[bits as u8]),
            2 => cx.write(ptr, &(bits as u16).to_le_bytes()),
            _ => cx.write(ptr, &bits.to_le_bytes()),
        }
    }

    pub fn load(cx: &mut Context<'_>, n: usize, ptr: u32) -> Result<u32> {
        let bits = match flags_size(n) {
            0 => 0,
            1 => u32::from(cx.read::<1>(ptr)?[0]),
            2 => u32::from(u16::from_le_bytes(cx.read::<2>(ptr)?)),
            _ => u32::from_le_bytes(cx.read::<4>(ptr)?),
        };
        Ok(mask(n, bits))
    }
}

/// Checks that a parameter or result tuple pointer is aligned and in bounds.
pub(crate) fn check_tuple(cx: &mut Context<'_>, ptr: u32, align: u32, size: u32) -> Result<()> {
    if !ptr.is_multiple_of(align) {
        return Err(trap(Trap::UnalignedPointer));
    }
    if u64::from(ptr) + u64::from(size) > cx.mem()?.len() as u64 {
        return Err(trap(Trap::MemoryOutOfBounds));
    }
    Ok(())
}
