//! Code memory: an artifact image mapped once, checked, with `.text` made executable in
//! place. Nothing in the image is patched at load time.

use crate::registry;
use anyhow::{bail, Context, Result};
use fact_environ::artifact::{
    checksum, mac_matches, ArtifactHeader, ArtifactInfo, ArtifactKind, Seal, TrapSite,
    SECTION_DATA, SECTION_HEADER, SECTION_META, SECTION_TEXT,
};
use fact_environ::Trap;
use object::{Object, ObjectSection};
use std::ops::Range;
use std::path::Path;

enum Mapping {
    Anon(memmap2::MmapMut),
    File(memmap2::Mmap),
}

impl Mapping {
    fn bytes(&self) -> &[u8] {
        match self {
            Mapping::Anon(m) => m,
            Mapping::File(m) => m,
        }
    }
}

/// A loaded artifact.
pub struct CodeMemory {
    mapping: Mapping,
    /// The length of the image within the mapping.
    len: usize,
    text: Range<usize>,
    data: Range<usize>,
    info: ArtifactInfo,
    /// Sorted `(text start, text end, module, defined function)` of every wasm function,
    /// for backtraces.
    func_index: Vec<(u32, u32, u32, u32)>,
    registered: std::sync::atomic::AtomicBool,
}

// SAFETY: the mapping is immutable once published.
unsafe impl Send for CodeMemory {}
unsafe impl Sync for CodeMemory {}

/// What an image is, from its first bytes.
pub fn detect(bytes: &[u8]) -> Option<ArtifactKind> {
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(bytes).ok()?;
    let flags = match file.flags() {
        object::FileFlags::Elf { e_flags, .. } => e_flags,
        _ => return None,
    };
    file.section_by_name(SECTION_HEADER)?;
    ArtifactKind::from_elf_flags(flags)
}

impl CodeMemory {
    /// Copies `bytes` into fresh memory and loads them, checked against `seal`.
    pub fn from_bytes(bytes: &[u8], kind: ArtifactKind, seal: Seal<'_>) -> Result<CodeMemory> {
        let mut map = memmap2::MmapMut::map_anon(bytes.len().max(1))
            .context("failed to allocate code memory")?;
        map[..bytes.len()].copy_from_slice(bytes);
        Self::load(Mapping::Anon(map), bytes.len(), kind, seal)
    }

    /// Maps the file at `path` and loads it in place. With a key, the file is instead read
    /// into private memory once and authenticated there, so nothing authenticated is read
    /// from the file again (whoever can write it cannot change what runs).
    pub fn from_file(path: &Path, kind: ArtifactKind, seal: Seal<'_>) -> Result<CodeMemory> {
        if seal.key.is_some() {
            let bytes = std::fs::read(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            return Self::from_bytes(&bytes, kind, seal);
        }
        let file = std::fs::File::open(path)
            .with_context(|| format!("failed to open {}", path.display()))?;
        // SAFETY: a private, read-only mapping; the caller of the (unsafe) deserialize
        // promises that the file is a trusted artifact that nobody modifies meanwhile.
        let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }
            .with_context(|| format!("failed to map {}", path.display()))?;
        let len = map.len();
        Self::load(Mapping::File(map), len, kind, seal)
    }

    fn load(
        mapping: Mapping,
        len: usize,
        kind: ArtifactKind,
        seal: Seal<'_>,
    ) -> Result<CodeMemory> {
        let compat = seal.compat;
        let bytes = &mapping.bytes()[..len];
        let file = object::read::elf::ElfFile64::<object::Endianness>::parse(bytes)
            .context("not a precompiled fact artifact (not a valid ELF image)")?;
        let found = match file.flags() {
            object::FileFlags::Elf { e_flags, .. } => ArtifactKind::from_elf_flags(e_flags),
            _ => None,
        };
        let section = |name: &str| -> Result<Range<usize>> {
            let s = file
                .section_by_name(name)
                .with_context(|| format!("artifact is missing its `{name}` section"))?;
            let (start, size) = s
                .file_range()
                .with_context(|| format!("artifact section `{name}` has no contents"))?;
            let (start, size) = (start as usize, size as usize);
            match start.checked_add(size) {
                Some(end) if end <= bytes.len() => Ok(start..end),
                _ => bail!("artifact section `{name}` lies outside the file (truncated?)"),
            }
        };
        let header_range = section(SECTION_HEADER).context("not a precompiled fact artifact")?;
        let header = ArtifactHeader::decode(&bytes[header_range.clone()])?;
        match (seal.key, header.mac) {
            (None, None) => {}
            (Some(_), None) => bail!(
                "this artifact is not keyed, and this engine has an artifact key: it loads only \
                 artifacts made with that key"
            ),
            (None, Some(_)) => bail!(
                "this artifact is keyed: load it with an engine configured with the key it was \
                 made with (`Config::artifact_key`)"
            ),
            (Some(key), Some(mac)) => {
                if !mac_matches(key, bytes, header_range.start, &mac) {
                    bail!(
                        "artifact authentication failed: it was not made with this engine's \
                         key, or it was altered"
                    );
                }
            }
        }
        let found = found.unwrap_or(header.kind);
        if found != kind || header.kind != kind {
            bail!(
                "expected {} but this is {}",
                kind.describe(),
                found.describe()
            );
        }
        if header.compat != compat {
            bail!(
                "this artifact was compiled for another engine configuration and cannot be \
                 used here\n  artifact: {}\n  engine:   {}",
                header.compat,
                compat
            );
        }
        let text = section(SECTION_TEXT)?;
        let meta = section(SECTION_META)?;
        let data = section(SECTION_DATA)?;
        if checksum(bytes, header_range.start + ArtifactHeader::CHECKSUM_OFFSET) != header.checksum
        {
            bail!("artifact checksum mismatch: the file is corrupted");
        }
        let digest = fact_environ::artifact::meta_digest(&bytes[meta.clone()]);
        if bytes[text.clone()].get(..digest.len()) != Some(&digest[..]) {
            bail!("artifact metadata does not belong to its code (the file was altered)");
        }
        let info = ArtifactInfo::from_bytes(&bytes[meta])?;
        if info.kind != kind {
            bail!("artifact metadata describes {}", info.kind.describe());
        }
        info.check_ranges(text.len(), data.len())?;

        let page = rustix::param::page_size();
        let base = bytes.as_ptr() as usize;
        if !(base + text.start).is_multiple_of(page) || text.len() % page != 0 {
            bail!("artifact text section is not page-aligned");
        }

        let mut func_index = Vec::new();
        for (m, module) in info.modules.iter().enumerate() {
            for (f, func) in module.funcs.iter().enumerate() {
                func_index.push((func.text.start, func.text.end(), m as u32, f as u32));
            }
        }
        func_index.sort_unstable();

        let mut code = CodeMemory {
            mapping,
            len,
            text,
            data,
            info,
            func_index,
            registered: Default::default(),
        };
        code.publish()?;
        Ok(code)
    }

    /// Makes `.text` executable.
    fn publish(&mut self) -> Result<()> {
        let ptr = self.mapping.bytes()[self.text.clone()].as_ptr() as *mut std::ffi::c_void;
        // SAFETY: the range is page-aligned and inside our mapping.
        unsafe {
            rustix::mm::mprotect(
                ptr,
                self.text.len(),
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::EXEC,
            )
        }
        .context("failed to make code executable")?;
        Ok(())
    }

    /// Registers the text range so that traps and backtraces can find this code. Must be
    /// called once the `CodeMemory` has its final address (inside an `Arc`).
    pub fn register(self: &std::sync::Arc<Self>) {
        registry::register(self);
    }

    /// Marks the code registered; false if it already was.
    pub(crate) fn mark_registered(&self) -> bool {
        !self
            .registered
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// The whole artifact image, as it would be written to a file.
    pub fn image(&self) -> &[u8] {
        &self.mapping.bytes()[..self.len]
    }

    pub fn info(&self) -> &ArtifactInfo {
        &self.info
    }

    /// The address range of `.text`.
    pub fn text_range(&self) -> Range<usize> {
        let base = self.text_base();
        base..base + self.text.len()
    }

    /// The address of the start of `.text`.
    pub fn text_base(&self) -> usize {
        self.mapping.bytes()[self.text.clone()].as_ptr() as usize
    }

    /// The `.fact.data` section.
    pub fn data(&self) -> &[u8] {
        &self.mapping.bytes()[self.data.clone()]
    }

    /// The trap at text offset `offset`: `Some(None)` is a pending trap.
    pub fn lookup_trap(&self, offset: u32) -> Option<Option<Trap>> {
        let traps: &[TrapSite] = &self.info.traps;
        traps
            .binary_search_by_key(&offset, |t| t.offset)
            .ok()
            .map(|i| traps[i].trap)
    }

    /// The exception handler of the call site whose return address is at text offset
    /// `offset`: `(handler offset, frame offset)`.
    pub fn lookup_handler(&self, offset: u32) -> Option<(u32, u32)> {
        let sites = &self.info.handlers;
        sites
            .binary_search_by_key(&offset, |h| h.ret_addr)
            .ok()
            .map(|i| (sites[i].handler, sites[i].frame_offset))
    }

    /// The wasm function containing text offset `offset`: `(module, defined function)`.
    pub fn lookup_func(&self, offset: u32) -> Option<(usize, usize)> {
        let i = self
            .func_index
            .partition_point(|&(start, _, _, _)| start <= offset);
        let &(start, end, m, f) = self.func_index.get(i.checked_sub(1)?)?;
        (offset >= start && offset < end).then_some((m as usize, f as usize))
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        if *self.registered.get_mut() {
            registry::unregister(self.text_range().start);
        }
    }
}
