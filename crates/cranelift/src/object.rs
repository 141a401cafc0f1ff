//! The object builder: lays out compiled code in one `.text` section, resolves every call
//! between functions right here (so the loaded image needs no relocations), and writes
//! the ELF artifact with its trap table, metadata and data segments.

use crate::compiler::{CompiledCode, CompiledModule};
use anyhow::{bail, Result};
use cranelift_codegen::binemit::Reloc;
use fact_environ::artifact::{
    artifact_mac, checksum, ArtifactHeader, ArtifactInfo, ArtifactKind, CompiledFunc,
    CompiledModuleInfo, HandlerSite, Seal, TextRange, Trampoline, TrapSite, SECTION_DATA,
    SECTION_HEADER, SECTION_META, SECTION_TEXT, TEXT_ALIGN,
};
use object::write::{Object, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, FileFlags, SectionKind, SymbolFlags, SymbolKind,
    SymbolScope,
};

/// Alignment of every function in `.text` (the artifact checks rely on it).
const FUNC_ALIGN: usize = fact_environ::artifact::CODE_ALIGN;

/// Accumulates compiled modules and trampolines into one artifact.
pub struct ArtifactBuilder {
    kind: ArtifactKind,
    text: Vec<u8>,
    traps: Vec<TrapSite>,
    handlers: Vec<HandlerSite>,
    modules: Vec<CompiledModuleInfo>,
    data: Vec<u8>,
    symbols: Vec<(String, TextRange)>,
}

impl ArtifactBuilder {
    pub fn new(kind: ArtifactKind) -> ArtifactBuilder {
        ArtifactBuilder {
            kind,
            // Room for the metadata digest, written by `finish`.
            text: vec![0; fact_environ::artifact::CODE_START],
            traps: Vec::new(),
            handlers: Vec::new(),
            modules: Vec::new(),
            data: Vec::new(),
            symbols: Vec::new(),
        }
    }

    /// Appends code to `.text` (relocations are patched by the caller).
    fn append(&mut self, code: &CompiledCode, name: String) -> Result<TextRange> {
        while !self.text.len().is_multiple_of(FUNC_ALIGN) {
            self.text.push(0);
        }
        let start = u32::try_from(self.text.len())
            .ok()
            .filter(|s| s.checked_add(code.code.len() as u32).is_some())
            .ok_or_else(|| anyhow::anyhow!("the compiled code exceeds 4 GiB"))?;
        self.text.extend_from_slice(&code.code);
        self.traps
            .extend(code.traps.iter().map(|(off, trap)| TrapSite {
                offset: start + off,
                trap: *trap,
            }));
        self.handlers
            .extend(code.handlers.iter().map(|h| HandlerSite {
                ret_addr: start + h.ret_addr,
                frame_offset: h.frame_offset,
                handler: start + h.handler,
            }));
        let range = TextRange {
            start,
            len: code.code.len() as u32,
        };
        self.symbols.push((name, range));
        Ok(range)
    }

    /// Adds code that calls nothing by relocation (a trampoline), returning where it is.
    pub fn add_code(&mut self, code: &CompiledCode, name: String) -> Result<TextRange> {
        if !code.relocs.is_empty() {
            bail!("standalone code may not have relocations");
        }
        self.append(code, name)
    }

    /// Adds a compiled module and returns its index in the artifact.
    pub fn add_module(&mut self, module: CompiledModule, name: &str) -> Result<usize> {
        let index = self.modules.len();
        let mut funcs = Vec::with_capacity(module.funcs.len());
        for (i, f) in module.funcs.iter().enumerate() {
            let func_index = module.info.num_imported_funcs + i as u32;
            let text = self.append(
                f,
                format!("{name}::{}", module.info.func_display_name(func_index)),
            )?;
            funcs.push(CompiledFunc {
                text,
                address_map: f.address_map.clone(),
            });
        }
        // Every function's place is known now: resolve the calls between them.
        for (f, placed) in module.funcs.iter().zip(&funcs) {
            for r in &f.relocs {
                let target = r
                    .target_func
                    .checked_sub(module.info.num_imported_funcs)
                    .and_then(|i| funcs.get(i as usize))
                    .ok_or_else(|| anyhow::anyhow!("relocation against a non-local function"))?;
                let site = placed.text.start as i64 + r.offset as i64;
                let delta = target.text.start as i64 + r.addend - site;
                patch(&mut self.text, site as usize, r.kind, delta)?;
            }
        }
        let mut array_trampolines = Vec::new();
        for (tys, code) in &module.array_trampolines {
            let text = self.add_code(code, format!("{name}::array_to_wasm[{}]", tys[0]))?;
            array_trampolines.extend(tys.iter().map(|&ty| Trampoline { ty, text }));
        }
        let data = TextRange {
            start: self.data.len() as u32,
            len: module.data.len() as u32,
        };
        self.data.extend_from_slice(&module.data);
        self.modules.push(CompiledModuleInfo {
            module: module.info,
            funcs,
            array_trampolines,
            data,
        });
        Ok(index)
    }

    /// Writes the ELF image, sealed with the engine's compatibility string (and key, if it
    /// has one); `component` is the serialized component description, for component
    /// artifacts.
    pub fn finish(
        mut self,
        seal: Seal<'_>,
        component: Option<fact_environ::artifact::ComponentArtifactInfo>,
    ) -> Result<Vec<u8>> {
        // Pad the text to whole pages so that making it executable touches nothing else.
        while !(self.text.len() as u64).is_multiple_of(TEXT_ALIGN) {
            self.text.push(0xcc);
        }
        self.traps.sort_by_key(|t| t.offset);
        self.handlers.sort_by_key(|h| h.ret_addr);
        let info = ArtifactInfo {
            kind: self.kind,
            modules: self.modules,
            traps: self.traps,
            handlers: self.handlers,
            code: self.symbols.iter().map(|(_, r)| *r).collect(),
            component,
        };
        let meta = info.to_bytes();
        let digest = fact_environ::artifact::meta_digest(&meta);
        self.text[..digest.len()].copy_from_slice(&digest);
        // The checksum covers the finished file; it is patched in at the end.
        let header = ArtifactHeader {
            kind: self.kind,
            checksum: 0,
            // Zeros while the MAC is computed; patched in below.
            mac: seal.key.map(|_| [0; 32]),
            compat: seal.compat.to_string(),
        };

        let arch = match target_lexicon::Triple::host().architecture {
            target_lexicon::Architecture::X86_64 => Architecture::X86_64,
            target_lexicon::Architecture::Aarch64(_) => Architecture::Aarch64,
            other => bail!("unsupported host architecture {other}"),
        };
        let mut obj = Object::new(BinaryFormat::Elf, arch, Endianness::Little);
        obj.flags = FileFlags::Elf {
            os_abi: 0,
            abi_version: 0,
            e_flags: self.kind.elf_flags(),
        };
        let text = obj.add_section(
            Vec::new(),
            SECTION_TEXT.as_bytes().to_vec(),
            SectionKind::Text,
        );
        obj.set_section_data(text, self.text, TEXT_ALIGN);
        for (name, range) in self.symbols {
            obj.add_symbol(Symbol {
                name: name.into_bytes(),
                value: range.start.into(),
                size: range.len.into(),
                kind: SymbolKind::Text,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(text),
                flags: SymbolFlags::None,
            });
        }
        for (name, bytes, align) in [
            (SECTION_HEADER, header.encode(), 8),
            (SECTION_META, meta, 8),
            (SECTION_DATA, self.data, 16),
        ] {
            let id = obj.add_section(
                Vec::new(),
                name.as_bytes().to_vec(),
                SectionKind::ReadOnlyData,
            );
            obj.set_section_data(id, bytes, align);
        }
        let mut image = obj.write()?;
        let header_at = header_offset(&image)?;
        if let Some(key) = seal.key {
            let mac = artifact_mac(key, &image, header_at);
            let at = header_at + ArtifactHeader::MAC_OFFSET;
            image[at..at + 32].copy_from_slice(mac.as_bytes());
        }
        let field = header_at + ArtifactHeader::CHECKSUM_OFFSET;
        let sum = checksum(&image, field);
        image[field..field + 4].copy_from_slice(&sum.to_le_bytes());
        Ok(image)
    }
}

/// The file offset of the header section in a written image.
fn header_offset(image: &[u8]) -> Result<usize> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(image)?;
    let section = file
        .section_by_name(SECTION_HEADER)
        .ok_or_else(|| anyhow::anyhow!("the written image lacks its header section"))?;
    let (offset, _) = section
        .file_range()
        .ok_or_else(|| anyhow::anyhow!("the header section has no contents"))?;
    Ok(offset as usize)
}

/// Writes a resolved PC-relative call displacement.
fn patch(text: &mut [u8], site: usize, kind: Reloc, delta: i64) -> Result<()> {
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
            let v = i32::try_from(delta)
                .map_err(|_| anyhow::anyhow!("call displacement out of range"))?;
            text[site..site + 4].copy_from_slice(&v.to_le_bytes());
        }
        Reloc::Arm64Call => {
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                bail!("call displacement out of range");
            }
            let insn = u32::from_le_bytes(text[site..site + 4].try_into().unwrap());
            let imm = ((delta >> 2) as u32) & 0x03ff_ffff;
            text[site..site + 4].copy_from_slice(&((insn & 0xfc00_0000) | imm).to_le_bytes());
        }
        other => bail!("unsupported relocation kind {other:?}"),
    }
    Ok(())
}
