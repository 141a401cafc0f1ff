//! Compiled core modules.

use crate::Engine;
use anyhow::{Context, Result};
use fact_cranelift::ArtifactBuilder;
use fact_environ::artifact::ArtifactKind;
use fact_environ::translate::translate_module;
use fact_environ::{EntityType, ModuleInfo};
use fact_runtime::{CodeMemory, RuntimeModule};
use std::path::Path;
use std::sync::Arc;

/// A compiled core WebAssembly module, ready to be instantiated. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    engine: Engine,
    runtime: Arc<RuntimeModule>,
}

/// An import of a module.
#[derive(Clone, Debug)]
pub struct ImportType<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: EntityType,
}

/// An export of a module.
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    pub name: &'a str,
    pub ty: EntityType,
}

/// Parses text (or passes binary through), validates, compiles, and writes the artifact.
pub(crate) fn compile_artifact(engine: &Engine, bytes: &[u8]) -> Result<Vec<u8>> {
    let wasm = wat::parse_bytes(bytes)?;
    let translation = translate_module(&wasm, engine.features())?;
    let name = translation
        .info
        .name
        .clone()
        .unwrap_or_else(|| "wasm".to_string());
    let compiled = engine
        .compiler()
        .compile_module(translation, &wasm, &name)?;
    let mut builder = ArtifactBuilder::new(ArtifactKind::Module);
    builder.add_module(compiled, &name)?;
    builder.finish(engine.seal(), None)
}

impl Module {
    /// Compiles a module from its binary or text format.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let image = compile_artifact(engine, bytes.as_ref())?;
        let code = CodeMemory::from_bytes(&image, ArtifactKind::Module, engine.seal())?;
        Ok(Module::from_code(engine, code))
    }

    /// Compiles a module from a binary.
    pub fn from_binary(engine: &Engine, wasm: &[u8]) -> Result<Module> {
        Module::new(engine, wasm)
    }

    /// Compiles the module in the file at `path` (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Module::new(engine, bytes).with_context(|| format!("failed to compile {}", path.display()))
    }

    /// Loads an artifact made by [`Module::serialize`] or
    /// [`Engine::precompile_module`].
    ///
    /// # Safety
    ///
    /// The artifact contains machine code that will run: it must come from a trusted
    /// compilation. Truncated, corrupted, foreign or incompatible artifacts are detected
    /// and rejected with an error.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let code = CodeMemory::from_bytes(bytes.as_ref(), ArtifactKind::Module, engine.seal())?;
        Ok(Module::from_code(engine, code))
    }

    /// Like [`Module::deserialize`], but maps the file and uses its code in place.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]; moreover the file must not change while mapped.
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let code = CodeMemory::from_file(path, ArtifactKind::Module, engine.seal())
            .with_context(|| format!("failed to load {}", path.display()))?;
        Ok(Module::from_code(engine, code))
    }

    fn from_code(engine: &Engine, code: CodeMemory) -> Module {
        let code = Arc::new(code);
        code.register();
        let runtime = RuntimeModule::new(code, 0, engine.types());
        Module::from_runtime(engine, runtime)
    }

    /// A module of an artifact that is already loaded (e.g. one of a component's).
    pub(crate) fn from_runtime(engine: &Engine, runtime: Arc<RuntimeModule>) -> Module {
        Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                runtime,
            }),
        }
    }

    /// The artifact of this module, loadable with [`Module::deserialize`].
    pub fn serialize(&self) -> Result<Vec<u8>> {
        Ok(self.inner.runtime.code().image().to_vec())
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.info().name.as_deref()
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        self.inner.runtime.info()
    }

    pub(crate) fn runtime(&self) -> &Arc<RuntimeModule> {
        &self.inner.runtime
    }

    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        self.info().imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: self.inner.runtime.engine_entity_type(&i.ty),
        })
    }

    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> {
        let info = self.info();
        info.exports.iter().map(|(name, index)| ExportType {
            name,
            ty: self
                .inner
                .runtime
                .engine_entity_type(&info.entity_type(*index)),
        })
    }

    /// The relocations in the loaded image (always zero: calls are resolved when the
    /// artifact is built). Exposed for tests and `fact inspect`.
    pub fn text_relocations(&self) -> Result<usize> {
        use object::{Object, ObjectSection};
        let image = self.inner.runtime.code().image();
        let file = object::File::parse(image)?;
        Ok(file.sections().map(|s| s.relocations().count()).sum())
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}
