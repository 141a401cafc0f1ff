//! The artifact format shared by the object builder (which writes it) and the runtime
//! (which maps it): an ELF file whose sections are
//!
//! - `.text`: all machine code, page-aligned, calls already resolved (no relocations);
//! - `.fact.header`: the [`ArtifactHeader`] (compatibility string and checksum);
//! - `.fact.meta`: the [`ArtifactInfo`], serialized with postcard;
//! - `.fact.data`: the wasm data segments of every module, concatenated.
//!
//! The ELF header's `e_flags` carry [`ArtifactKind`] too, so a module artifact and a
//! component artifact can be told apart before anything else is read.

use crate::module::ModuleInfo;
use crate::trap::Trap;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub const SECTION_TEXT: &str = ".text";
pub const SECTION_HEADER: &str = ".fact.header";
pub const SECTION_META: &str = ".fact.meta";
pub const SECTION_DATA: &str = ".fact.data";

/// Alignment of `.text` in the file, so that it can be mapped executable in place.
pub const TEXT_ALIGN: u64 = 0x1_0000;

/// The first bytes of the header section.
pub const MAGIC: [u8; 8] = *b"\0factart";
/// Bumped whenever the layout of anything in an artifact changes. Version 1 was code from
/// cranelift-wasm 0.112; version 2 is fact's own translator on Cranelift 0.135.
pub const FORMAT_VERSION: u32 = 5;

/// What an artifact holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArtifactKind {
    Module,
    Component,
}

impl ArtifactKind {
    /// The value of the ELF `e_flags` field for this kind.
    pub fn elf_flags(self) -> u32 {
        match self {
            ArtifactKind::Module => 0x0046_0001,
            ArtifactKind::Component => 0x0046_0002,
        }
    }

    pub fn from_elf_flags(flags: u32) -> Option<ArtifactKind> {
        [ArtifactKind::Module, ArtifactKind::Component]
            .into_iter()
            .find(|k| k.elf_flags() == flags)
    }

    pub fn describe(self) -> &'static str {
        match self {
            ArtifactKind::Module => "a precompiled core module",
            ArtifactKind::Component => "a precompiled component",
        }
    }
}

/// The checksum of a whole artifact image: CRC-32 of every byte of the file, with the four
/// bytes of the checksum field itself (at `field`) read as zero.
pub fn checksum(image: &[u8], field: usize) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&image[..field]);
    hasher.update(&[0; 4]);
    hasher.update(&image[field + 4..]);
    hasher.finalize()
}

/// A secret key with which an engine authenticates the artifacts it makes and loads.
pub type ArtifactKey = [u8; 32];

/// The keyed MAC of a whole artifact image (BLAKE3 keyed hashing), with the checksum and
/// MAC fields of the header (which starts at file offset `header`) read as zero.
pub fn artifact_mac(key: &ArtifactKey, image: &[u8], header: usize) -> blake3::Hash {
    let checksum = header + ArtifactHeader::CHECKSUM_OFFSET;
    let mac = header + ArtifactHeader::MAC_OFFSET;
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher.update(&image[..checksum]);
    hasher.update(&[0; 4]);
    hasher.update(&image[checksum + 4..mac]);
    hasher.update(&[0; 32]);
    hasher.update(&image[mac + 32..]);
    hasher.finalize()
}

/// Whether `mac` is the [`artifact_mac`] of `image` under `key` (compared in constant
/// time).
pub fn mac_matches(key: &ArtifactKey, image: &[u8], header: usize, mac: &[u8; 32]) -> bool {
    artifact_mac(key, image, header) == blake3::Hash::from(*mac)
}

/// How an engine seals the artifacts it makes and checks the ones it loads.
#[derive(Copy, Clone, Debug)]
pub struct Seal<'a> {
    /// The compatibility string (see [`ArtifactHeader::compat`]).
    pub compat: &'a str,
    /// With a key, artifacts carry a keyed MAC and only artifacts made with the same key
    /// load.
    pub key: Option<&'a ArtifactKey>,
}

/// The contents of `.fact.header`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactHeader {
    pub kind: ArtifactKind,
    /// [`checksum`] of the whole file.
    pub checksum: u32,
    /// The [`artifact_mac`] of a keyed artifact (`None` without a key).
    pub mac: Option<[u8; 32]>,
    /// Everything the code depends on: fact and Cranelift versions, target, settings.
    /// An engine only loads artifacts whose string equals its own.
    pub compat: String,
}

impl ArtifactHeader {
    /// Where the checksum field is within the encoded header.
    pub const CHECKSUM_OFFSET: usize = 16;
    /// Where the MAC field (32 bytes, after a 4-byte keyed flag) is.
    pub const MAC_OFFSET: usize = 24;

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.kind.elf_flags()).to_le_bytes());
        out.extend_from_slice(&self.checksum.to_le_bytes());
        out.extend_from_slice(&u32::from(self.mac.is_some()).to_le_bytes());
        out.extend_from_slice(&self.mac.unwrap_or([0; 32]));
        out.extend_from_slice(&(self.compat.len() as u32).to_le_bytes());
        out.extend_from_slice(self.compat.as_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<ArtifactHeader> {
        let mut r = bytes;
        let mut take = |n: usize| -> Result<&[u8]> {
            if r.len() < n {
                bail!("artifact header is truncated");
            }
            let (a, b) = r.split_at(n);
            r = b;
            Ok(a)
        };
        if take(8)? != MAGIC {
            bail!("not a fact artifact (bad header magic)");
        }
        let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap());
        let version = u32_at(take(4)?);
        if version < FORMAT_VERSION {
            bail!(
                "this artifact was made by an older fact (artifact format {version}; this \
                 build reads format {FORMAT_VERSION}); recompile it with this fact"
            );
        }
        if version > FORMAT_VERSION {
            bail!(
                "this artifact was made by a newer fact (artifact format {version}; this \
                 build reads format {FORMAT_VERSION}); recompile it with this fact"
            );
        }
        let kind = ArtifactKind::from_elf_flags(u32_at(take(4)?))
            .context("artifact header names an unknown artifact kind")?;
        let checksum = u32_at(take(4)?);
        let keyed = u32_at(take(4)?);
        let mac_bytes: [u8; 32] = take(32)?.try_into().unwrap();
        let mac = match keyed {
            0 => None,
            1 => Some(mac_bytes),
            _ => bail!("artifact header is corrupt (bad keyed flag)"),
        };
        let len = u32_at(take(4)?) as usize;
        let compat = std::str::from_utf8(take(len)?)
            .context("artifact compatibility string is not UTF-8")?
            .to_string();
        Ok(ArtifactHeader {
            kind,
            checksum,
            mac,
            compat,
        })
    }
}

/// A range of `.text`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextRange {
    pub start: u32,
    pub len: u32,
}

impl TextRange {
    pub fn end(&self) -> u32 {
        self.start + self.len
    }
}

/// A compiled wasm function.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CompiledFunc {
    pub text: TextRange,
    /// `(offset in the function's code, offset in the wasm binary)`, sorted by code offset.
    pub address_map: Vec<(u32, u32)>,
}

/// An entry trampoline (host → wasm, array of raw values) for one signature.
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
pub struct Trampoline {
    /// The module type index of the signature.
    pub ty: u32,
    pub text: TextRange,
}

/// A compiled core module inside an artifact.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CompiledModuleInfo {
    pub module: ModuleInfo,
    /// The defined functions, in order.
    pub funcs: Vec<CompiledFunc>,
    /// Entry trampolines for every signature of an escaping function.
    pub array_trampolines: Vec<Trampoline>,
    /// This module's data blob within `.fact.data`.
    pub data: TextRange,
}

/// A trapping instruction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapSite {
    /// Offset in `.text`.
    pub offset: u32,
    /// The trap, or `None` where the code raises an error that a builtin or a host
    /// function has just recorded (the runtime keeps it with the current activation).
    pub trap: Option<Trap>,
}

/// A call site inside a `try_table`: an exception thrown by the callee resumes at
/// `handler` (the try_table's dispatch code) with the stack pointer `frame_offset` bytes
/// below the frame pointer of the frame making the call.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerSite {
    /// The call's return address, as an offset (in `.text`, or in the function's code
    /// before the object builder places it).
    pub ret_addr: u32,
    pub frame_offset: u32,
    /// The dispatch code's offset, like `ret_addr`.
    pub handler: u32,
}

/// The metadata of an artifact (`.fact.meta`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArtifactInfo {
    pub kind: ArtifactKind,
    pub modules: Vec<CompiledModuleInfo>,
    /// Every trap site in `.text`, sorted by offset.
    pub traps: Vec<TrapSite>,
    /// Every call site with an exception handler, sorted by return address.
    pub handlers: Vec<HandlerSite>,
    /// Every piece of code in `.text`, in order: functions and trampolines. They tile the
    /// text (each starts at the next multiple of [`CODE_ALIGN`] after the previous), and
    /// every code range named elsewhere in the metadata is one of them.
    pub code: Vec<TextRange>,
    /// The component description, for component artifacts.
    pub component: Option<ComponentArtifactInfo>,
}

/// What a component artifact holds besides its modules.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComponentArtifactInfo {
    /// The instantiation plan, with adapters compiled into adapter modules.
    pub plan: crate::component::Plan,
    /// How many of the artifact's modules are the component's own core modules; the
    /// adapter modules follow them.
    pub num_static_modules: u32,
    /// The imports and exports of each adapter module.
    pub adapter_modules: Vec<AdapterModuleMeta>,
    /// The lowering trampolines (wasm → host), one per distinct core signature.
    pub lowering_trampolines: Vec<TextRange>,
    /// For each lowering of the plan, the index of its trampoline.
    pub lowering_trampoline: Vec<u32>,
}

/// An adapter module's interface, for inspection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterModuleMeta {
    pub imports: Vec<crate::component::adapt::AdapterImport>,
    pub exports: Vec<(String, crate::component::AdapterIndex)>,
}

impl ArtifactInfo {
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("serializing artifact metadata cannot fail")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ArtifactInfo> {
        postcard::from_bytes(bytes).context("artifact metadata is corrupt")
    }

    /// Checks the metadata against the sections before anything uses it (it is never
    /// trusted): every text range lies within a text section of `text_len` bytes and the
    /// code ranges tile it exactly as the object builder lays code out (so no code address
    /// can point into another function or into padding), data ranges lie within the data
    /// section of `data_len` bytes, every module's description is consistent
    /// ([`ModuleInfo::validate`]), and the tables point into the text.
    pub fn check_ranges(&self, text_len: usize, data_len: usize) -> Result<()> {
        let mut code: Vec<TextRange> = Vec::new();
        for m in &self.modules {
            if (m.data.start as usize)
                .checked_add(m.data.len as usize)
                .is_none_or(|e| e > data_len)
            {
                bail!("artifact metadata names data outside the data section");
            }
            if m.funcs.len() != m.module.num_defined_funcs() as usize {
                bail!("artifact metadata does not match its module");
            }
            m.module
                .validate(m.data.len as usize)
                .context("artifact metadata describes an inconsistent module")?;
            code.extend(m.funcs.iter().map(|f| f.text));
            // One entry trampoline per type of an escaping defined function, and no other.
            let mut needed: Vec<u32> = m.module.functions[m.module.num_imported_funcs as usize..]
                .iter()
                .filter(|f| f.escapes())
                .map(|f| f.ty)
                .collect();
            needed.sort_unstable();
            needed.dedup();
            let mut present: Vec<u32> = m.array_trampolines.iter().map(|t| t.ty).collect();
            present.sort_unstable();
            if present != needed {
                bail!("artifact metadata names a bad trampoline");
            }
            code.extend(m.array_trampolines.iter().map(|t| t.text));
        }
        if let Some(c) = &self.component {
            code.extend(c.lowering_trampolines.iter().copied());
        }
        let mut end = CODE_START;
        for r in &self.code {
            let start = r.start as usize;
            if start != end.next_multiple_of(CODE_ALIGN)
                || r.len == 0
                || start
                    .checked_add(r.len as usize)
                    .is_none_or(|e| e > text_len)
            {
                bail!("artifact code ranges do not tile the text section");
            }
            end = start + r.len as usize;
        }
        let known = |r: &TextRange| {
            self.code
                .binary_search_by_key(&r.start, |c| c.start)
                .is_ok_and(|i| self.code[i] == *r)
        };
        if !code.iter().all(known) {
            bail!("artifact metadata names code that is not a function or trampoline");
        }
        for m in &self.modules {
            for f in &m.funcs {
                let mut last = 0;
                for &(code_off, _) in &f.address_map {
                    if code_off < last || code_off >= f.text.len {
                        bail!("artifact address map is corrupt");
                    }
                    last = code_off;
                }
            }
        }
        if self.traps.iter().any(|t| t.offset as usize >= end)
            || !self.traps.is_sorted_by_key(|t| t.offset)
        {
            bail!("artifact trap table points outside the code");
        }
        if self
            .handlers
            .iter()
            .any(|h| h.ret_addr as usize > end || h.handler as usize >= end)
            || !self.handlers.is_sorted_by_key(|h| h.ret_addr)
        {
            bail!("artifact exception handler table is corrupt");
        }
        if let Some(c) = &self.component {
            if c.lowering_trampoline.len() != c.plan.lowerings.len()
                || c.lowering_trampoline
                    .iter()
                    .any(|&i| i as usize >= c.lowering_trampolines.len())
                || c.num_static_modules as usize + c.adapter_modules.len() != self.modules.len()
            {
                bail!("artifact component metadata is inconsistent");
            }
        }
        Ok(())
    }
}

/// Code in `.text` starts at multiples of this many bytes (the object builder's layout).
pub const CODE_ALIGN: usize = 16;

/// `.text` starts with the digest of `.fact.meta` ([`meta_digest`]); code follows it, at
/// this offset.
pub const CODE_START: usize = 32;

/// The digest of an artifact's metadata, which the object builder writes at the start of
/// `.text`. Everything the compiled code relies on (the module descriptions, the trap and
/// handler tables, the component plan) is in the metadata, so loading checks the metadata
/// against the digest in the code it belongs to: metadata that is not the code's own is
/// rejected whatever its checksum says, on top of the structural checks of
/// [`ArtifactInfo::check_ranges`].
pub fn meta_digest(meta: &[u8]) -> [u8; CODE_START] {
    *blake3::hash(meta).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_garbage() {
        let h = ArtifactHeader {
            kind: ArtifactKind::Component,
            checksum: 0xdead_beef,
            mac: Some([7; 32]),
            compat: "fact 0.1.0".into(),
        };
        let bytes = h.encode();
        assert_eq!(ArtifactHeader::decode(&bytes).unwrap(), h);
        assert!(ArtifactHeader::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut bad = bytes.clone();
        bad[0] = 1;
        assert!(ArtifactHeader::decode(&bad).is_err());
    }

    #[test]
    fn checksum_ignores_only_its_own_field() {
        let image = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut patched = image;
        patched[2..6].copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(checksum(&image, 2), checksum(&patched, 2));
        patched[0] = 0;
        assert_ne!(checksum(&image, 2), checksum(&patched, 2));
    }

    #[test]
    fn checksum_field_offset_matches_the_encoding() {
        let h = ArtifactHeader {
            kind: ArtifactKind::Module,
            checksum: 0x0403_0201,
            mac: None,
            compat: String::new(),
        };
        let bytes = h.encode();
        let at = ArtifactHeader::CHECKSUM_OFFSET;
        assert_eq!(&bytes[at..at + 4], &[1, 2, 3, 4]);
    }
}
