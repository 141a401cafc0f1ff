//! The engine: compiler, configuration, signature registry and epoch counter, shared by
//! every module and store made with it.

use crate::Config;
use anyhow::Result;
use fact_cranelift::{ArtifactBuilder, Compiler};
use fact_environ::artifact::ArtifactKind;
use fact_environ::FuncType;
use fact_runtime::{CodeMemory, TypeRegistry};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a byte buffer holds, as told by [`Engine::detect_precompiled`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Precompiled {
    Module,
    Component,
}

/// A compilation and runtime environment. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    compiler: Compiler,
    compat: String,
    types: Arc<TypeRegistry>,
    epoch: AtomicU64,
    /// Exit trampolines for host functions, by signature id, and the code holding them.
    host_trampolines: Mutex<HashMap<u32, usize>>,
    trampoline_code: Mutex<Vec<Arc<CodeMemory>>>,
}

impl Engine {
    pub fn new(config: &Config) -> Result<Engine> {
        fact_runtime::traps::init_traps();
        let compiler = Compiler::new(
            config.tunables.clone(),
            config.parallel_compilation,
            config.emit_clif.clone(),
        )?;
        let compat = compiler.compat_string();
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                compiler,
                compat,
                types: Arc::new(TypeRegistry::default()),
                epoch: AtomicU64::new(0),
                host_trampolines: Mutex::new(HashMap::new()),
                trampoline_code: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The proposals modules compiled by this engine may use.
    pub(crate) fn features(&self) -> &fact_environ::Features {
        &self.inner.config.tunables.features
    }

    pub(crate) fn compiler(&self) -> &Compiler {
        &self.inner.compiler
    }

    /// How this engine seals and checks artifacts: its compatibility string and key.
    pub(crate) fn seal(&self) -> fact_environ::artifact::Seal<'_> {
        fact_environ::artifact::Seal {
            compat: &self.inner.compat,
            key: self.inner.config.artifact_key.as_ref(),
        }
    }

    pub(crate) fn types(&self) -> &Arc<TypeRegistry> {
        &self.inner.types
    }

    pub(crate) fn epoch_ptr(&self) -> *const u64 {
        self.inner.epoch.as_ptr() as *const u64
    }

    /// Advances the epoch; code in stores whose deadline it reaches traps with
    /// `interrupt` at its next check. Safe to call from any thread.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Compiles a module (binary or text) to an artifact for [`crate::Module::deserialize`].
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::module::compile_artifact(self, bytes)
    }

    /// Compiles a component (binary or text) to an artifact for
    /// [`crate::component::Component::deserialize`].
    pub fn precompile_component(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::component::compile::compile_component(self, bytes)
    }

    /// Tells whether `bytes` is a precompiled module, a precompiled component, or neither.
    pub fn detect_precompiled(bytes: &[u8]) -> Option<Precompiled> {
        match fact_runtime::code_memory::detect(bytes)? {
            ArtifactKind::Module => Some(Precompiled::Module),
            ArtifactKind::Component => Some(Precompiled::Component),
        }
    }

    /// The exit trampoline through which wasm calls host functions of type `ty`, compiled
    /// on first use and kept for the engine's life.
    pub(crate) fn host_trampoline(&self, ty: &FuncType) -> Result<(u32, usize)> {
        let id = self.types().register(ty);
        let mut cache = self.inner.host_trampolines.lock().unwrap();
        if let Some(addr) = cache.get(&id) {
            return Ok((id, *addr));
        }
        let code = self.compiler().wasm_to_host_trampoline(ty)?;
        let mut builder = ArtifactBuilder::new(ArtifactKind::Module);
        let range = builder.add_code(&code, format!("wasm_to_host[{ty}]"))?;
        let image = builder.finish(self.seal(), None)?;
        let memory = Arc::new(CodeMemory::from_bytes(
            &image,
            ArtifactKind::Module,
            self.seal(),
        )?);
        memory.register();
        let addr = memory.text_base() + range.start as usize;
        self.inner.trampoline_code.lock().unwrap().push(memory);
        cache.insert(id, addr);
        Ok((id, addr))
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::default()).expect("the default configuration works on this host")
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}
