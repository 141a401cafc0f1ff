//! fact's `.wast` runner: parses scripts with the `wast` crate and runs their directives
//! against the engine. Used by `fact wast` and by the conformance tests.

mod component;
mod core;
mod host;
pub mod report;
pub mod skips;
mod spectest;

use anyhow::{anyhow, bail, Context as _, Result};
use fact::{Engine, Instance, Linker, Module, Store, Val};
pub use report::{Failure, FileReport, Summary};
pub use skips::{SkipCheck, SkipList};
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use wast::core::WastRetCore;
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// What one directive did.
enum Outcome {
    Pass,
    /// Passed, but the module was rejected with another message than the script's.
    PassMessageMismatch,
    Fail {
        expected: String,
        actual: String,
    },
    Skip(String),
}

fn fail(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
    Outcome::Fail {
        expected: expected.into(),
        actual: actual.into(),
    }
}

/// Whether `err` (or anything in its chain) mentions `message`.
pub fn error_matches(err: &anyhow::Error, message: &str) -> bool {
    format!("{err:?}").contains(message) || err.chain().any(|c| c.to_string().contains(message))
}

/// Renders an error with its whole chain on one line.
fn show_error(err: &anyhow::Error) -> String {
    err.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

/// A module or instance of a script, or the reason it does not exist: a directive the
/// skip list names defined it. Directives that use it are skipped with that reason.
#[derive(Clone)]
enum Slot<T> {
    Ready(T),
    Skipped(String),
}

/// The error of a directive that uses something a skipped directive would have defined.
#[derive(Debug)]
struct DependsOnSkipped(String);

impl std::fmt::Display for DependsOnSkipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "depends on a skipped directive ({})", self.0)
    }
}

impl std::error::Error for DependsOnSkipped {}

impl<T: Clone> Slot<T> {
    fn get(&self) -> Result<T> {
        match self {
            Slot::Ready(t) => Ok(t.clone()),
            Slot::Skipped(why) => Err(DependsOnSkipped(why.clone()).into()),
        }
    }
}

/// The state of one script: its store, its named modules and instances.
pub struct WastContext {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    definitions: HashMap<String, Slot<Module>>,
    last_definition: Option<Slot<Module>>,
    instances: HashMap<String, Slot<Instance>>,
    current: Option<Slot<Instance>>,
    /// Registered names whose instance was skipped.
    skipped_registrations: HashMap<String, String>,
    components: component::Components,
    /// Whether the most recent instance (what an unnamed `invoke` uses) is a component.
    current_is_component: bool,
    /// Whether the most recent definition is a component.
    last_definition_is_component: bool,
}

/// Results of an execution.
enum Values {
    Core(Vec<Val>),
    Component(Vec<fact::component::Val>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Core(v) => v.len(),
            Values::Component(v) => v.len(),
        }
    }
}

/// A binary and whether it is a component.
struct Encoded {
    bytes: Vec<u8>,
    component: bool,
}

impl WastContext {
    pub fn new(engine: &Engine) -> Result<WastContext> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        spectest::define(&mut linker, &mut store)?;
        host::define(&mut linker, &mut store)?;
        Ok(WastContext {
            engine: engine.clone(),
            store,
            linker,
            definitions: HashMap::new(),
            last_definition: None,
            instances: HashMap::new(),
            current: None,
            skipped_registrations: HashMap::new(),
            components: component::Components::new(engine)?,
            current_is_component: false,
            last_definition_is_component: false,
        })
    }

    /// Records that the directive defining `name` (and the current module) was skipped.
    fn skip_definition(&mut self, directive: &WastDirective<'_>, reason: &str) {
        use WastDirective as D;
        let why = reason.to_string();
        // What the directive would define is marked skipped in the core maps, which the
        // component lookups fall back to.
        match directive {
            D::Module(_) | D::ModuleInstance { .. } => self.current_is_component = false,
            D::ModuleDefinition(_) => self.last_definition_is_component = false,
            _ => {}
        }
        match directive {
            D::Module(q) => {
                if let Some(id) = q.name() {
                    self.instances
                        .insert(id.name().to_string(), Slot::Skipped(why.clone()));
                }
                self.current = Some(Slot::Skipped(why));
            }
            D::ModuleDefinition(q) => {
                if let Some(id) = q.name() {
                    self.definitions
                        .insert(id.name().to_string(), Slot::Skipped(why.clone()));
                }
                self.last_definition = Some(Slot::Skipped(why));
            }
            D::ModuleInstance { instance, .. } => {
                if let Some(id) = instance {
                    self.instances
                        .insert(id.name().to_string(), Slot::Skipped(why.clone()));
                }
                self.current = Some(Slot::Skipped(why));
            }
            D::Register { name, module, .. } => {
                let _ = module;
                self.skipped_registrations.insert(name.to_string(), why);
            }
            _ => {}
        }
    }

    /// Encodes a possibly quoted module or component.
    fn encode(&self, quote: &mut QuoteWat<'_>) -> Result<Encoded> {
        let component = matches!(
            quote,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        );
        Ok(Encoded {
            bytes: quote.encode()?,
            component,
        })
    }

    /// The component instance an `invoke` of `name` (or of the current instance) means,
    /// if it means one.
    fn component_target(
        &self,
        name: Option<wast::token::Id<'_>>,
    ) -> Option<fact::component::Instance> {
        match name {
            Some(id) => self.components.instances.get(id.name()).copied(),
            None if self.current_is_component => self.components.current,
            None => None,
        }
    }

    /// Compiles and instantiates a component, which becomes the current instance.
    fn instantiate_component(&mut self, bytes: &[u8], name: Option<&str>) -> Result<()> {
        let component = fact::component::Component::new(&self.engine, bytes)?;
        self.components
            .instantiate(&mut self.store, &component, name)?;
        self.current_is_component = true;
        Ok(())
    }

    fn instance(&self, name: Option<wast::token::Id<'_>>) -> Result<Instance> {
        match name {
            Some(id) => self
                .instances
                .get(id.name())
                .with_context(|| format!("no instance named ${}", id.name()))?
                .get(),
            None => self
                .current
                .as_ref()
                .context("no module instance to use")?
                .get(),
        }
    }

    /// Instantiates `module` through the linker. An import from a registered name whose
    /// instance was skipped makes the instantiation depend on that skip.
    fn link(&mut self, module: &Module) -> Result<Instance> {
        for import in module.imports() {
            if let Some(why) = self.skipped_registrations.get(import.module) {
                if self
                    .linker
                    .get(&mut self.store, import.module, import.name)
                    .is_none()
                {
                    return Err(DependsOnSkipped(why.clone()).into());
                }
            }
        }
        self.linker.instantiate(&mut self.store, module)
    }

    fn instantiate(&mut self, module: &Module, name: Option<&str>) -> Result<Instance> {
        let instance = match self.link(module) {
            Ok(instance) => instance,
            Err(e) => {
                // What this module would define is missing now too.
                if let Some(d) = e.downcast_ref::<DependsOnSkipped>() {
                    let slot = Slot::Skipped(d.0.clone());
                    if let Some(name) = name {
                        self.instances.insert(name.to_string(), slot.clone());
                    }
                    self.current = Some(slot);
                }
                return Err(e);
            }
        };
        if let Some(name) = name {
            self.instances
                .insert(name.to_string(), Slot::Ready(instance));
        }
        self.current = Some(Slot::Ready(instance));
        self.current_is_component = false;
        Ok(instance)
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Values> {
        if let Some(instance) = self.component_target(invoke.module) {
            let args = invoke
                .args
                .iter()
                .map(|a| match a {
                    WastArg::Component(v) => Ok(v),
                    _ => Err(anyhow!("core value in a component invocation")),
                })
                .collect::<Result<Vec<_>>>()?;
            return self
                .components
                .invoke(&mut self.store, instance, invoke.name, &args)
                .map(Values::Component);
        }
        self.invoke_core(invoke).map(Values::Core)
    }

    fn invoke_core(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .with_context(|| format!("no function export `{}`", invoke.name))?;
        let mut args = Vec::new();
        for a in &invoke.args {
            match a {
                WastArg::Core(c) => args.push(core::arg(&mut self.store, c)?),
                _ => bail!("component value in a core invocation"),
            }
        }
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }

    /// Runs an `invoke`, `get` or module of an assertion.
    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<Values> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(*module)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .with_context(|| format!("no global export `{global}`"))?;
                Ok(Values::Core(vec![g.get(&mut self.store)]))
            }
            WastExecute::Wat(wat) => {
                let component = matches!(wat, Wat::Component(_));
                let bytes = wat.encode()?;
                if component {
                    self.instantiate_component(&bytes, None)?;
                    return Ok(Values::Component(Vec::new()));
                }
                let module = Module::new(&self.engine, &bytes)?;
                self.instantiate(&module, None)?;
                Ok(Values::Core(Vec::new()))
            }
        }
    }

    fn check_results(&self, values: &Values, expected: &[WastRet<'_>]) -> Result<Outcome> {
        match values {
            Values::Core(v) => self.check_core_results(v, expected),
            Values::Component(v) => Ok(check_component_results(v, expected)),
        }
    }

    fn check_core_results(&self, values: &[Val], expected: &[WastRet<'_>]) -> Result<Outcome> {
        let show_all = |vals: &[Val]| {
            vals.iter()
                .map(|v| core::show(&self.store, v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let expected_core: Vec<&WastRetCore<'_>> = expected
            .iter()
            .map(|r| match r {
                WastRet::Core(c) => Ok(c),
                _ => Err(anyhow!("component result in a core assertion")),
            })
            .collect::<Result<_>>()?;
        let show_expected = || {
            expected_core
                .iter()
                .map(|r| core::show_expected(r))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if values.len() != expected_core.len() {
            return Ok(fail(show_expected(), show_all(values)));
        }
        for (v, e) in values.iter().zip(&expected_core) {
            if !core::matches(&self.store, v, e)? {
                return Ok(fail(show_expected(), show_all(values)));
            }
        }
        Ok(Outcome::Pass)
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Result<Outcome> {
        use WastDirective as D;
        Ok(match directive {
            D::Module(mut quote) => {
                let name = quote.name().map(|id| id.name().to_string());
                let encoded = self.encode(&mut quote)?;
                if encoded.component {
                    self.instantiate_component(&encoded.bytes, name.as_deref())?;
                    return Ok(Outcome::Pass);
                }
                let module = Module::new(&self.engine, &encoded.bytes)?;
                self.instantiate(&module, name.as_deref())?;
                Outcome::Pass
            }
            D::ModuleDefinition(mut quote) => {
                let name = quote.name().map(|id| id.name().to_string());
                let encoded = self.encode(&mut quote)?;
                if encoded.component {
                    let component = fact::component::Component::new(&self.engine, &encoded.bytes)?;
                    if let Some(name) = name {
                        self.components.definitions.insert(name, component.clone());
                    }
                    self.components.last_definition = Some(component);
                    self.last_definition_is_component = true;
                    return Ok(Outcome::Pass);
                }
                let module = Module::new(&self.engine, &encoded.bytes)?;
                if let Some(name) = name {
                    self.definitions.insert(name, Slot::Ready(module.clone()));
                }
                self.last_definition = Some(Slot::Ready(module));
                self.last_definition_is_component = false;
                Outcome::Pass
            }
            D::ModuleInstance {
                instance, module, ..
            } => {
                let component = match module {
                    Some(id) => self.components.definitions.get(id.name()).cloned(),
                    None if self.last_definition_is_component => {
                        self.components.last_definition.clone()
                    }
                    None => None,
                };
                if let Some(component) = component {
                    self.components.instantiate(
                        &mut self.store,
                        &component,
                        instance.map(|i| i.name()),
                    )?;
                    self.current_is_component = true;
                    return Ok(Outcome::Pass);
                }
                let def: Result<Module> = match module {
                    Some(id) => self
                        .definitions
                        .get(id.name())
                        .with_context(|| format!("no module definition ${}", id.name()))?
                        .get(),
                    None => self
                        .last_definition
                        .as_ref()
                        .context("no module definition")?
                        .get(),
                };
                let def = match def {
                    Ok(def) => def,
                    Err(e) => {
                        if let Some(d) = e.downcast_ref::<DependsOnSkipped>() {
                            let slot = Slot::Skipped(d.0.clone());
                            if let Some(id) = instance {
                                self.instances.insert(id.name().to_string(), slot.clone());
                            }
                            self.current = Some(slot);
                        }
                        return Err(e);
                    }
                };
                self.instantiate(&def, instance.map(|i| i.name()))?;
                Outcome::Pass
            }
            D::Register { name, module, .. } => {
                let instance = match self.instance(module) {
                    Ok(i) => i,
                    Err(e) => {
                        if let Some(d) = e.downcast_ref::<DependsOnSkipped>() {
                            self.skipped_registrations
                                .insert(name.to_string(), d.0.clone());
                        }
                        return Err(e);
                    }
                };
                self.linker.instance(&mut self.store, name, instance)?;
                Outcome::Pass
            }
            D::Invoke(invoke) => {
                self.invoke(&invoke)?;
                Outcome::Pass
            }
            D::AssertReturn {
                mut exec, results, ..
            } => match self.execute(&mut exec) {
                Ok(values) => self.check_results(&values, &results)?,
                Err(e) if e.is::<DependsOnSkipped>() => return Err(e),
                Err(e) => fail("a return", show_error(&e)),
            },
            D::AssertTrap {
                mut exec, message, ..
            } => match self.execute(&mut exec) {
                Ok(values) => fail(
                    format!("trap: {message}"),
                    format!("returned {} values", values.len()),
                ),
                Err(e) if e.is::<DependsOnSkipped>() => return Err(e),
                Err(e) if error_matches(&e, message) => Outcome::Pass,
                Err(e) => fail(format!("trap: {message}"), show_error(&e)),
            },
            D::AssertExhaustion { call, message, .. } => match self.invoke_core(&call) {
                Ok(_) => fail(format!("exhaustion: {message}"), "returned"),
                Err(e) if e.is::<DependsOnSkipped>() => return Err(e),
                Err(e) if error_matches(&e, message) => Outcome::Pass,
                Err(e) => fail(format!("exhaustion: {message}"), show_error(&e)),
            },
            D::AssertInvalid {
                mut module,
                message,
                ..
            }
            | D::AssertMalformed {
                mut module,
                message,
                ..
            } => {
                let result = match self.encode(&mut module) {
                    Ok(e) if e.component => {
                        fact::component::Component::new(&self.engine, &e.bytes).map(|_| ())
                    }
                    Ok(e) => Module::new(&self.engine, &e.bytes).map(|_| ()),
                    Err(e) => Err(e),
                };
                match result {
                    Ok(()) => fail(format!("rejected: {message}"), "module compiled"),
                    Err(e) if error_matches(&e, message) => Outcome::Pass,
                    Err(_) => Outcome::PassMessageMismatch,
                }
            }
            D::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                if let Wat::Component(_) = module {
                    let bytes = module.encode()?;
                    let component = fact::component::Component::new(&self.engine, &bytes)?;
                    let linked = self
                        .components
                        .linker
                        .instantiate(&mut self.store, &component);
                    return Ok(match linked {
                        Ok(_) => fail(format!("link error: {message}"), "instantiated"),
                        Err(e) if error_matches(&e, message) => Outcome::Pass,
                        Err(e) => fail(format!("link error: {message}"), show_error(&e)),
                    });
                }
                let bytes = module.encode()?;
                let module = Module::new(&self.engine, &bytes)?;
                match self.link(&module) {
                    Ok(_) => fail(format!("link error: {message}"), "instantiated"),
                    Err(e) if e.is::<DependsOnSkipped>() => return Err(e),
                    Err(e) if error_matches(&e, message) => Outcome::Pass,
                    Err(e) => fail(format!("link error: {message}"), show_error(&e)),
                }
            }
            D::AssertInvalidCustom { .. } | D::AssertMalformedCustom { .. } => {
                Outcome::Skip("custom-section validation (annotations proposal)".into())
            }
            D::AssertException { mut exec, .. } => match self.execute(&mut exec) {
                Ok(values) => fail("an exception", format!("returned {} values", values.len())),
                Err(e) if e.is::<DependsOnSkipped>() => return Err(e),
                Err(e) if e.chain().any(|c| c.is::<fact::ThrownException>()) => {
                    self.store.take_pending_exception();
                    Outcome::Pass
                }
                Err(e) => fail("an exception", show_error(&e)),
            },
            D::AssertSuspension { .. } => Outcome::Skip("stack switching".into()),
            D::Thread(_) | D::Wait { .. } => Outcome::Skip("threads".into()),
        })
    }
}

/// Compares component results with the script's expectations.
fn check_component_results(values: &[fact::component::Val], expected: &[WastRet<'_>]) -> Outcome {
    let shown = || {
        values
            .iter()
            .map(component::show)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut wanted = Vec::new();
    for r in expected {
        match r {
            WastRet::Component(v) => wanted.push(v),
            _ => return fail("component results", "a core result in the script"),
        }
    }
    let show_wanted = || {
        wanted
            .iter()
            .map(|v| component::show_expected(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if values.len() != wanted.len()
        || !values
            .iter()
            .zip(&wanted)
            .all(|(v, e)| component::matches(v, e))
    {
        return fail(show_wanted(), shown());
    }
    Outcome::Pass
}

/// The engine configuration scripts run with: the defaults, plus epoch interruption (so
/// the `fact.epoch_deadline` host function works; without a deadline nothing changes).
pub fn config() -> fact::Config {
    let mut config = fact::Config::new();
    config.epoch_interruption(true);
    config
}

/// A script may change the engine it runs on with a first line
/// `;; fact-config: SETTING ...`, where a setting is `max-wasm-stack=BYTES` (to show that
/// something runs in a small stack) or `relaxed-simd-deterministic`.
fn script_engine(engine: &Engine, text: &str) -> Result<Option<Engine>> {
    let Some(settings) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(";; fact-config:"))
    else {
        return Ok(None);
    };
    let mut config = engine.config().clone();
    for setting in settings.split_whitespace() {
        match setting.split_once('=') {
            Some(("max-wasm-stack", bytes)) => {
                config.max_wasm_stack(bytes.parse().context("max-wasm-stack takes a number")?);
            }
            None if setting == "relaxed-simd-deterministic" => {
                config.relaxed_simd_deterministic(true);
            }
            _ => bail!("unknown fact-config setting `{setting}`"),
        }
    }
    Ok(Some(Engine::new(&config)?))
}

/// Runs the script `text` (named `name` in reports). Directives on lines in `skip_lines`
/// are skipped with the given reason.
pub fn run_script(
    engine: &Engine,
    name: &str,
    text: &str,
    skip_lines: &HashMap<usize, String>,
) -> FileReport {
    let mut report = FileReport {
        file: name.to_string(),
        ..Default::default()
    };
    let own_engine = match script_engine(engine, text) {
        Ok(e) => e,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            return report;
        }
    };
    let engine = own_engine.as_ref().unwrap_or(engine);
    // Scripts such as `names.wast` use bidirectional and invisible characters on purpose.
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = match wast::parser::ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(mut e) => {
            e.set_text(text);
            report.error = Some(e.to_string());
            return report;
        }
    };
    let script = match wast::parser::parse::<wast::Wast<'_>>(&buf) {
        Ok(s) => s,
        Err(mut e) => {
            e.set_text(text);
            report.error = Some(e.to_string());
            return report;
        }
    };
    let mut cx = match WastContext::new(engine) {
        Ok(cx) => cx,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            return report;
        }
    };
    for directive in script.directives {
        let (line, col) = directive.span().linecol_in(text);
        let (line, column) = (line + 1, col + 1);
        if let Some(reason) = skip_lines.get(&line) {
            cx.skip_definition(&directive, &format!("line {line}: {reason}"));
            report.skip(reason);
            continue;
        }
        let kind = directive_kind(&directive);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| cx.directive(directive)))
            .unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(anyhow!("panic in the engine: {msg}"))
            })
            .unwrap_or_else(|e| match e.downcast_ref::<DependsOnSkipped>() {
                Some(d) => Outcome::Skip(d.to_string()),
                None => fail("success", show_error(&e)),
            });
        match outcome {
            Outcome::Pass => report.passed += 1,
            Outcome::PassMessageMismatch => {
                report.passed += 1;
                report.message_mismatches += 1;
            }
            Outcome::Skip(reason) => report.skip(&reason),
            Outcome::Fail { expected, actual } => {
                report.failed += 1;
                report.failures.push(Failure {
                    line,
                    column,
                    directive: kind.to_string(),
                    expected,
                    actual,
                });
            }
        }
    }
    report
}

fn directive_kind(d: &WastDirective<'_>) -> &'static str {
    use WastDirective as D;
    match d {
        D::Module(_) => "module",
        D::ModuleDefinition(_) => "module definition",
        D::ModuleInstance { .. } => "module instance",
        D::Register { .. } => "register",
        D::Invoke(_) => "invoke",
        D::AssertReturn { .. } => "assert_return",
        D::AssertTrap { .. } => "assert_trap",
        D::AssertExhaustion { .. } => "assert_exhaustion",
        D::AssertInvalid { .. } => "assert_invalid",
        D::AssertMalformed { .. } => "assert_malformed",
        D::AssertUnlinkable { .. } => "assert_unlinkable",
        D::AssertInvalidCustom { .. } => "assert_invalid_custom",
        D::AssertMalformedCustom { .. } => "assert_malformed_custom",
        D::AssertException { .. } => "assert_exception",
        D::AssertSuspension { .. } => "assert_suspension",
        D::Thread(_) => "thread",
        D::Wait { .. } => "wait",
    }
}

/// Runs the script at `path`.
pub fn run_file(engine: &Engine, path: &Path, skip_lines: &HashMap<usize, String>) -> FileReport {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => run_script(engine, &name, &text, skip_lines),
        Err(e) => FileReport {
            file: name,
            error: Some(format!("cannot read the script: {e}")),
            ..Default::default()
        },
    }
}
