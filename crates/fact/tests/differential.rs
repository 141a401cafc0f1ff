//! Differential testing of the wasm → CLIF translator.
//!
//! Random modules from `wasm-smith`, restricted to fact's feature set, run on fact and on
//! the `wasmi` interpreter (a test oracle and a dev-dependency only); fact also runs each
//! module with optimization off and with explicit bounds checks instead of guard pages.
//! After every call of every exported function the runs must agree on the results, on
//! trap or no trap and the trap's code, on every exported global, and on a hash of every
//! exported memory and table. A stack overflow on either side makes a case inconclusive.
//!
//! The interpreter runs in a child process (this same binary, started with
//! `FACT_DIFF_ORACLE_CHILD` set), which streams one JSON record per case: wasmi 2.0.0
//! crashes the process on a few of these modules (the first was seed 909), and a crash
//! of the oracle must cost one case, not the run. Such cases are counted and reported.
//! wasmi also gives wrong answers on some modules, some depending on what its process ran
//! before: a disagreement is first re-run in a fresh oracle process, and one that stays
//! is a failure unless it is in [`KNOWN_ORACLE_BUGS`], each entry checked against V8 and
//! Wasmtime with `scripts/cross-check-differential.py`.
//!
//! `FACT_DIFF_CASES` (default 300) cases run from seed `FACT_DIFF_SEED` (default 0); each
//! case's module is derived from its seed alone, so a failure names a seed that
//! reproduces it with `FACT_DIFF_SEED=<seed> FACT_DIFF_CASES=1`, and `FACT_DIFF_DUMP=<dir>`
//! writes each case's module there as `case-<seed>.wasm`, with the calls made, fact's
//! outcomes and the state after each as `case-<seed>.calls` (JSON lines), which
//! `scripts/cross-check-differential.py` replays on V8 and Wasmtime. Run with
//! `cargo test --release -p fact --test differential`.

use arbitrary::Unstructured;
use fact::{
    Config, Engine, Extern, HeapType, Instance, Module, OptLevel, Store, Trap, Val, ValType, V128,
};
use fact_environ::translate::core_features;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Fuel given to wasm-smith's termination counter (decremented per loop iteration and
/// call): enough for real work, small enough that every case finishes quickly and no
/// recursion gets deeper than either engine's stack allows.
const TERMINATION_FUEL: u32 = 1_000;

/// The outcome of one call, comparable across engines.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Outcome {
    Values(Vec<Value>),
    Trap(TrapKind),
    /// An exception left the call (fact-only cases).
    Exception,
    /// The call exhausted the stack: the case says nothing about correctness.
    StackExhausted,
}

/// A wasm value. Floats compare equal if both are NaN, whatever their bits: with NaNs
/// canonicalized by wasm-smith only arithmetic NaNs remain, whose sign may differ between
/// an interpreter and hardware.
#[derive(Debug, Serialize, Deserialize)]
enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(#[serde(with = "halves")] u128),
    /// A reference: only whether it is null is comparable.
    Null(bool),
}

/// A `u128` as its two `u64` halves (low first), which JSON can hold exactly.
mod halves {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        [*v as u64, (*v >> 64) as u64].serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let [low, high] = <[u64; 2]>::deserialize(d)?;
        Ok(u128::from(low) | (u128::from(high) << 64))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (I32(a), I32(b)) => a == b,
            (I64(a), I64(b)) => a == b,
            (F32(a), F32(b)) => {
                a == b || (f32::from_bits(*a).is_nan() && f32::from_bits(*b).is_nan())
            }
            (F64(a), F64(b)) => {
                a == b || (f64::from_bits(*a).is_nan() && f64::from_bits(*b).is_nan())
            }
            (V128(a), V128(b)) => a == b,
            (Null(a), Null(b)) => a == b,
            _ => false,
        }
    }
}

/// Trap reasons both engines can report.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum TrapKind {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    Other,
}

/// The observable state of an instance after a call: exported globals, and a hash of each
/// exported memory's bytes and each exported table's null pattern (one byte per element,
/// 1 for null), sorted by name. The hash is FNV-1a (64 bits), which other tools can
/// compute too (`scripts/cross-check-differential.py`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    globals: Vec<(String, Value)>,
    hashes: Vec<(String, u64)>,
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Snapshot {
    fn sorted(mut globals: Vec<(String, Value)>, mut hashes: Vec<(String, u64)>) -> Snapshot {
        globals.sort_by(|a, b| a.0.cmp(&b.0));
        hashes.sort();
        Snapshot { globals, hashes }
    }
}

/// One export call of a case, as the oracle saw it.
#[derive(Debug, Serialize, Deserialize)]
struct Call {
    func: String,
    outcome: Outcome,
    state: Snapshot,
}

/// What the oracle made of a case.
#[derive(Debug, Serialize, Deserialize)]
enum Record {
    /// No module in fact's feature set, or one wasmi does not load.
    NotAccepted,
    /// Instantiation (segment initialization) trapped.
    InstantiationTrap(Outcome),
    /// The exported functions (sorted by name, with their parameter types) and the calls
    /// made, in order; the last one may be a stack overflow, after which nothing ran.
    Ran {
        funcs: Vec<(String, Vec<ValType>)>,
        calls: Vec<Call>,
    },
}

#[path = "common/seeded.rs"]
mod seeded;
use seeded::{env, Rng};

/// Which proposals a case's module may use, and what it is compared with.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Profile {
    /// What both fact and wasmi implement (WebAssembly 2.0, multi-memory, extended
    /// constants, tail calls): compared with wasmi.
    Shared,
    /// Also what wasmi (as built here) does not: 64-bit memories and tables, relaxed SIMD,
    /// exception handling. fact's configurations are compared with each other.
    FactOnly,
}

impl Profile {
    /// Every fourth case is fact-only.
    fn of(seed: u64) -> Profile {
        if seed % 4 == 3 {
            Profile::FactOnly
        } else {
            Profile::Shared
        }
    }

    fn wasm_features(self) -> wasmparser::WasmFeatures {
        use wasmparser::WasmFeatures as F;
        let shared = core_features() | F::TAIL_CALL;
        match self {
            Profile::Shared => shared,
            Profile::FactOnly => shared | F::MEMORY64 | F::RELAXED_SIMD | F::EXCEPTIONS,
        }
    }
}

/// wasm-smith configured to a profile's proposals exactly.
fn smith_config(profile: Profile) -> wasm_smith::Config {
    let fact_only = profile == Profile::FactOnly;
    wasm_smith::Config {
        // fact's proposals.
        simd_enabled: true,
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        extended_const_enabled: true,
        max_memories: 2,
        max_tables: 2,
        tail_call_enabled: true,
        relaxed_simd_enabled: fact_only,
        memory64_enabled: fact_only,
        exceptions_enabled: fact_only,
        // Everything else off.
        threads_enabled: false,
        gc_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        // No imports, everything exported, NaNs canonical.
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        // Limits under which a `grow` fails on both engines or on neither: a declared
        // maximum well inside what either engine can allocate.
        memory_max_size_required: true,
        max_memory32_bytes: 16 << 16,
        max_memory64_bytes: 16 << 16,
        table_max_size_required: true,
        max_table_elements: 1_000,
        // Something to call.
        min_types: 1,
        min_funcs: 1,
        max_funcs: 30,
        max_instructions: 200,
        // A start function that traps leaves no instance to call exports on; start
        // functions are compiled like any other, and the spec suite covers running them.
        allow_start_export: false,
        ..wasm_smith::Config::default()
    }
}

/// The module of case `seed`, if wasm-smith made one inside fact's feature set, and the
/// case's random stream, positioned where argument generation starts.
fn generate(seed: u64) -> Option<(Vec<u8>, Rng)> {
    let profile = Profile::of(seed);
    let mut rng = Rng(seed);
    let input = rng.bytes(4096);
    let mut u = Unstructured::new(&input);
    let mut module = wasm_smith::Module::new(smith_config(profile), &mut u).ok()?;
    module.ensure_termination(TERMINATION_FUEL).ok()?;
    let wasm = module.to_bytes();
    let mut validator = wasmparser::Validator::new_with_features(profile.wasm_features());
    validator.validate_all(&wasm).ok()?;
    Some((wasm, rng))
}

/// An argument value, independent of either engine.
#[derive(Copy, Clone, Debug, Serialize, Deserialize)]
enum Arg {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(#[serde(with = "halves")] u128),
    NullFunc,
    NullExtern,
    NullExn,
}

/// Arguments for a call: a few interesting values, chosen by the case's random stream.
fn arguments(rng: &mut Rng, params: &[ValType]) -> Vec<Arg> {
    params
        .iter()
        .map(|ty| {
            let bits = match rng.next() % 4 {
                0 => 0,
                1 => 1,
                2 => u64::MAX,
                _ => rng.next() % 4096,
            };
            match *ty {
                ValType::I32 => Arg::I32(bits as i32),
                ValType::I64 => Arg::I64(bits as i64),
                ValType::F32 => Arg::F32((bits as f32).to_bits()),
                ValType::F64 => Arg::F64((bits as f64).to_bits()),
                ValType::V128 => Arg::V128(u128::from(bits) | (u128::from(rng.next()) << 64)),
                // The generated modules use only the nullable `funcref` and `externref`.
                ValType::Ref(r) if r.heap.top() == HeapType::Extern => Arg::NullExtern,
                ValType::Ref(r) if r.heap.top() == HeapType::Exn => Arg::NullExn,
                ValType::Ref(_) => Arg::NullFunc,
            }
        })
        .collect()
}

// ---- The oracle: wasmi, in the child process ----

fn wasmi_trap(err: &wasmi::Error) -> Option<Outcome> {
    use wasmi::TrapCode as T;
    // Segment initialization reports an out-of-bounds table or memory as an error of
    // that entity rather than as a trap code.
    let message = err.to_string();
    let code = match err.as_trap_code() {
        Some(code) => code,
        None if message.starts_with("out of bounds table access") => T::TableOutOfBounds,
        None if message.starts_with("out of bounds memory access") => T::MemoryOutOfBounds,
        None => return None,
    };
    Some(match code {
        T::StackOverflow => Outcome::StackExhausted,
        T::UnreachableCodeReached => Outcome::Trap(TrapKind::Unreachable),
        T::MemoryOutOfBounds => Outcome::Trap(TrapKind::MemoryOutOfBounds),
        T::TableOutOfBounds => Outcome::Trap(TrapKind::TableOutOfBounds),
        T::IndirectCallToNull => Outcome::Trap(TrapKind::IndirectCallToNull),
        T::BadSignature => Outcome::Trap(TrapKind::BadSignature),
        T::IntegerOverflow => Outcome::Trap(TrapKind::IntegerOverflow),
        T::IntegerDivisionByZero => Outcome::Trap(TrapKind::IntegerDivisionByZero),
        T::BadConversionToInteger => Outcome::Trap(TrapKind::BadConversionToInteger),
        _ => Outcome::Trap(TrapKind::Other),
    })
}

fn wasmi_arg(arg: &Arg) -> wasmi::Val {
    match *arg {
        Arg::I32(x) => wasmi::Val::I32(x),
        Arg::I64(x) => wasmi::Val::I64(x),
        Arg::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
        Arg::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
        Arg::V128(x) => wasmi::Val::V128(wasmi::V128::from(x)),
        Arg::NullFunc => wasmi::Val::FuncRef(wasmi::Nullable::Null),
        Arg::NullExtern => wasmi::Val::ExternRef(wasmi::Nullable::Null),
        Arg::NullExn => unreachable!("exnref is in fact-only cases"),
    }
}

fn wasmi_value(v: &wasmi::Val) -> Value {
    match v {
        wasmi::Val::I32(x) => Value::I32(*x),
        wasmi::Val::I64(x) => Value::I64(*x),
        wasmi::Val::F32(x) => Value::F32(x.to_bits()),
        wasmi::Val::F64(x) => Value::F64(x.to_bits()),
        wasmi::Val::V128(x) => Value::V128(x.as_u128()),
        wasmi::Val::FuncRef(r) => Value::Null(r.is_null()),
        wasmi::Val::ExternRef(r) => Value::Null(r.is_null()),
    }
}

fn from_wasmi_type(t: &wasmi::ValType) -> ValType {
    match t {
        wasmi::ValType::I32 => ValType::I32,
        wasmi::ValType::I64 => ValType::I64,
        wasmi::ValType::F32 => ValType::F32,
        wasmi::ValType::F64 => ValType::F64,
        wasmi::ValType::V128 => ValType::V128,
        wasmi::ValType::FuncRef => ValType::FUNCREF,
        wasmi::ValType::ExternRef => ValType::EXTERNREF,
    }
}

fn wasmi_snapshot(store: &wasmi::Store<()>, instance: &wasmi::Instance) -> Snapshot {
    let mut globals = Vec::new();
    let mut hashes = Vec::new();
    let exports: Vec<(String, wasmi::Extern)> = instance
        .exports(store)
        .map(|e| (e.name().to_string(), e.into_extern()))
        .collect();
    for (name, ext) in exports {
        match ext {
            wasmi::Extern::Global(g) => globals.push((name, wasmi_value(&g.get(store)))),
            wasmi::Extern::Memory(m) => {
                hashes.push((name, fnv1a(m.data(store).iter().copied())));
            }
            wasmi::Extern::Table(t) => {
                let nulls = (0..t.size(store))
                    .map(|i| u8::from(t.get(store, i).map(|r| r.is_null()).unwrap_or(true)));
                hashes.push((name, fnv1a(nulls)));
            }
            wasmi::Extern::Func(_) => {}
        }
    }
    Snapshot::sorted(globals, hashes)
}

/// Runs case `seed` on wasmi. Its recursion limit is raised above wasm-smith's
/// termination fuel, so that only recursion that could exhaust fact's stack too ends a
/// case as inconclusive.
fn oracle(engine: &wasmi::Engine, seed: u64) -> Record {
    // Fact-only cases have fact for reference; the record is a placeholder.
    if Profile::of(seed) == Profile::FactOnly {
        return Record::NotAccepted;
    }
    let Some((wasm, mut rng)) = generate(seed) else {
        return Record::NotAccepted;
    };
    // SAFETY: `generate` validated the module with fact's proposals, all of which wasmi
    // implements. (wasmi is built without its own validator.)
    let Ok(module) = (unsafe { wasmi::Module::new_unchecked(engine, &wasm) }) else {
        return Record::NotAccepted;
    };
    let mut store = wasmi::Store::new(engine, ());
    let linker = wasmi::Linker::new(engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => {
            return match wasmi_trap(&e) {
                Some(outcome) => Record::InstantiationTrap(outcome),
                None => Record::NotAccepted,
            }
        }
    };
    let mut funcs = Vec::new();
    for export in instance.exports(&store) {
        let name = export.name().to_string();
        if let wasmi::Extern::Func(f) = export.into_extern() {
            let params = f.ty(&store).params().iter().map(from_wasmi_type).collect();
            funcs.push((name, params));
        }
    }
    funcs.sort_by(|a: &(String, Vec<ValType>), b| a.0.cmp(&b.0));
    let mut calls = Vec::new();
    for (name, params) in &funcs {
        let args: Vec<wasmi::Val> = arguments(&mut rng, params).iter().map(wasmi_arg).collect();
        let func = instance.get_func(&store, name).unwrap();
        let ty = func.ty(&store);
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(wasmi_value).collect()),
            Err(e) => wasmi_trap(&e).unwrap_or_else(|| panic!("seed {seed}: wasmi call: {e}")),
        };
        let stop = outcome == Outcome::StackExhausted;
        let state = wasmi_snapshot(&store, &instance);
        calls.push(Call {
            func: name.clone(),
            outcome,
            state,
        });
        if stop {
            break;
        }
    }
    Record::Ran { funcs, calls }
}

/// The child process: prints `ORACLE <seed> <record as JSON>` for each case.
fn oracle_child(seed: u64, cases: u64) {
    let mut config = wasmi::Config::default();
    config
        .set_max_recursion_depth(100_000)
        .set_max_stack_height(10_000_000);
    let engine = wasmi::Engine::new(&config);
    for s in seed..seed + cases {
        // A panic here is the test's own failure to handle something wasmi did: it is
        // reported as such, not counted as a crash of wasmi.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| oracle(&engine, s))) {
            Ok(record) => println!("ORACLE {s} {}", serde_json::to_string(&record).unwrap()),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|m| m.to_string()))
                    .unwrap_or_default();
                println!("ORACLE {s} !{}", msg.replace('\n', " "));
            }
        }
    }
}

/// The oracle process seen from the parent: records arrive in seed order.
struct Oracle {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    end: u64,
}

impl Oracle {
    fn start(seed: u64, end: u64) -> Oracle {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("FACT_DIFF_ORACLE_CHILD", "1")
            .env("FACT_DIFF_SEED", seed.to_string())
            .env("FACT_DIFF_CASES", (end - seed).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the oracle process");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Oracle { child, lines, end }
    }

    /// The record of case `seed`, or how the oracle process died on it (it is then
    /// restarted at the next case).
    fn record(&mut self, seed: u64) -> Result<Record, String> {
        if let Some(Ok(line)) = self.lines.next() {
            let rest = line
                .strip_prefix(&format!("ORACLE {seed} "))
                .unwrap_or_else(|| panic!("unexpected oracle output {line:?}"));
            if let Some(msg) = rest.strip_prefix('!') {
                panic!("seed {seed}: the oracle failed: {msg}");
            }
            return Ok(serde_json::from_str(rest).unwrap());
        }
        let death = match self.child.wait() {
            Ok(status) => match std::os::unix::process::ExitStatusExt::signal(&status) {
                Some(signal) => format!("signal {signal}"),
                None => format!("{status}"),
            },
            Err(e) => e.to_string(),
        };
        if seed + 1 < self.end {
            *self = Oracle::start(seed + 1, self.end);
        }
        Err(death)
    }
}

/// The record of case `seed` from an oracle process of its own.
fn fresh_record(seed: u64) -> Result<Record, String> {
    Oracle::start(seed, seed + 1).record(seed)
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- fact ----

fn fact_trap(err: &anyhow::Error) -> Option<Outcome> {
    if err.is::<fact::ThrownException>() {
        return Some(Outcome::Exception);
    }
    let trap = err.downcast_ref::<Trap>()?;
    Some(match trap {
        Trap::StackOverflow => Outcome::StackExhausted,
        Trap::UnreachableCodeReached => Outcome::Trap(TrapKind::Unreachable),
        Trap::MemoryOutOfBounds => Outcome::Trap(TrapKind::MemoryOutOfBounds),
        // wasmi reports an out-of-range `call_indirect` index as a table access.
        Trap::TableOutOfBounds | Trap::UndefinedElement => {
            Outcome::Trap(TrapKind::TableOutOfBounds)
        }
        Trap::IndirectCallToNull => Outcome::Trap(TrapKind::IndirectCallToNull),
        Trap::BadSignature => Outcome::Trap(TrapKind::BadSignature),
        Trap::IntegerOverflow => Outcome::Trap(TrapKind::IntegerOverflow),
        Trap::IntegerDivisionByZero => Outcome::Trap(TrapKind::IntegerDivisionByZero),
        Trap::BadConversionToInteger => Outcome::Trap(TrapKind::BadConversionToInteger),
        _ => Outcome::Trap(TrapKind::Other),
    })
}

fn fact_arg(arg: &Arg) -> Val {
    match *arg {
        Arg::I32(x) => Val::I32(x),
        Arg::I64(x) => Val::I64(x),
        Arg::F32(x) => Val::F32(x),
        Arg::F64(x) => Val::F64(x),
        Arg::V128(x) => Val::V128(V128(x)),
        Arg::NullFunc => Val::FuncRef(None),
        Arg::NullExtern => Val::ExternRef(None),
        Arg::NullExn => Val::ExnRef(None),
    }
}

fn fact_value(v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(*x),
        Val::F64(x) => Value::F64(*x),
        Val::V128(x) => Value::V128(x.0),
        Val::FuncRef(r) => Value::Null(r.is_none()),
        Val::ExternRef(r) => Value::Null(r.is_none()),
        Val::ExnRef(r) => Value::Null(r.is_none()),
    }
}

/// One fact configuration's instance of a case.
struct FactRun {
    store: Store<()>,
    instance: Instance,
}

impl FactRun {
    /// Compiles (every module is valid, so fact must accept it) and instantiates;
    /// `Err` if instantiation trapped.
    fn new(engine: &Engine, wasm: &[u8], seed: u64, name: &str) -> Result<FactRun, Outcome> {
        let module = Module::new(engine, wasm)
            .unwrap_or_else(|e| panic!("seed {seed}: {name} rejected a valid module: {e:#}"));
        let mut store = Store::new(engine, ());
        match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => Ok(FactRun { store, instance }),
            Err(e) => Err(fact_trap(&e)
                .unwrap_or_else(|| panic!("seed {seed}: {name} failed to instantiate: {e:#}"))),
        }
    }

    fn funcs(&mut self) -> Vec<(String, Vec<ValType>)> {
        let mut funcs = Vec::new();
        for (name, ext) in self.instance.exports(&mut self.store) {
            if let Extern::Func(f) = ext {
                funcs.push((name, f.ty(&self.store).params.to_vec()));
            }
        }
        funcs.sort_by(|a, b| a.0.cmp(&b.0));
        funcs
    }

    fn call(&mut self, name: &str, args: &[Arg]) -> Outcome {
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let ty = func.ty(&self.store);
        let params: Vec<Val> = args.iter().map(fact_arg).collect();
        let mut results: Vec<Val> = ty.results.iter().map(|t| Val::default_for(*t)).collect();
        match func.call(&mut self.store, &params, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(fact_value).collect()),
            Err(e) => fact_trap(&e).unwrap_or_else(|| panic!("call failed: {e:#}")),
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let mut globals = Vec::new();
        let mut hashes = Vec::new();
        for (name, ext) in self.instance.exports(&mut self.store) {
            match ext {
                Extern::Global(g) => globals.push((name, fact_value(&g.get(&mut self.store)))),
                Extern::Memory(m) => {
                    hashes.push((name, fnv1a(m.data(&self.store).iter().copied())));
                }
                Extern::Table(t) => {
                    let mut nulls = Vec::new();
                    for i in 0..t.size(&self.store) {
                        nulls.push(u8::from(match t.get(&mut self.store, i) {
                            Some(Val::FuncRef(r)) => r.is_none(),
                            Some(Val::ExternRef(r)) => r.is_none(),
                            Some(Val::ExnRef(r)) => r.is_none(),
                            _ => true,
                        }));
                    }
                    hashes.push((name, fnv1a(nulls)));
                }
                Extern::Func(_) | Extern::Tag(_) => {}
            }
        }
        Snapshot::sorted(globals, hashes)
    }
}

/// The record of a fact-only case, from fact's default configuration.
fn fact_record(engine: &Engine, seed: u64) -> Record {
    let Some((wasm, mut rng)) = generate(seed) else {
        return Record::NotAccepted;
    };
    let mut run = match FactRun::new(engine, &wasm, seed, "fact") {
        Ok(run) => run,
        Err(outcome) => return Record::InstantiationTrap(outcome),
    };
    let funcs = run.funcs();
    let mut calls = Vec::new();
    for (name, params) in &funcs {
        let args = arguments(&mut rng, params);
        let outcome = run.call(name, &args);
        let stop = outcome == Outcome::StackExhausted;
        let state = run.snapshot();
        calls.push(Call {
            func: name.clone(),
            outcome,
            state,
        });
        if stop {
            break;
        }
    }
    Record::Ran { funcs, calls }
}

/// fact's configurations, each compared with the oracle.
fn fact_engines() -> Vec<(&'static str, Engine)> {
    let mut no_opt = Config::new();
    no_opt.cranelift_opt_level(OptLevel::None);
    let mut checks = Config::new();
    checks.guard_pages(false);
    vec![
        ("fact", Engine::default()),
        ("fact (no optimization)", Engine::new(&no_opt).unwrap()),
        ("fact (bounds checks)", Engine::new(&checks).unwrap()),
    ]
}

/// What one case came to.
enum CaseResult {
    /// No module inside fact's feature set, or one the oracle does not load.
    NotAccepted,
    /// A stack overflow made the case meaningless.
    Inconclusive,
    /// The oracle process died on the case (how).
    OracleCrashed(String),
    /// All ran; `calls` export calls were compared.
    Compared { calls: usize },
    /// The oracle is known to be wrong on the case (see [`KNOWN_ORACLE_BUGS`]), or gave
    /// a different answer in a fresh process.
    OracleWrong,
    /// fact and the oracle disagree.
    Mismatch(String),
}

/// Cases where fact and wasmi 2.0.0 disagree and wasmi is wrong: fact's outcomes and
/// memory and table hashes are the ones V8 (Node 22) gives on the same module and calls,
/// and its outcomes the ones Wasmtime gives (`scripts/cross-check-differential.py`).
/// All are from seeds 0..100,000; a new one fails the test until it has been checked.
const KNOWN_ORACLE_BUGS: &[(u64, &str)] = &[
    (
        7899,
        "a `v128.store16_lane` to memory 1 after `memory.grow` of memory 0 is lost",
    ),
    (
        17797,
        "traps with `out of bounds memory access` in a call that returns",
    ),
    (28154, "memory contents differ after a call that traps"),
    (31170, "memory contents differ after a call that traps"),
    (
        45358,
        "traps with `out of bounds table access`; the call traps on memory",
    ),
    (
        49966,
        "returns from a call that traps with `out of bounds memory access`",
    ),
    (
        50900,
        "traps with `out of bounds memory access` in a call that returns",
    ),
    (
        57084,
        "traps with `out of bounds memory access`; the call reaches `unreachable`",
    ),
    (59550, "memory contents differ after a call that traps"),
    (
        67821,
        "traps with `out of bounds memory access` in a call that returns",
    ),
    (
        81183,
        "memory contents or globals differ after a call that returns",
    ),
    (
        94476,
        "traps on memory; the call reaches a null `call_indirect` entry",
    ),
];

fn run_case(seed: u64, record: Record, facts: &[(&str, Engine)]) -> CaseResult {
    let (funcs, calls) = match record {
        Record::NotAccepted => return CaseResult::NotAccepted,
        Record::InstantiationTrap(Outcome::StackExhausted) => return CaseResult::Inconclusive,
        Record::InstantiationTrap(expected) => {
            let (wasm, _) = generate(seed).unwrap();
            for (name, engine) in facts {
                match FactRun::new(engine, &wasm, seed, name) {
                    Ok(_) => {
                        return CaseResult::Mismatch(format!(
                            "{name} instantiated; wasmi trapped: {expected:?}"
                        ))
                    }
                    Err(Outcome::StackExhausted) => return CaseResult::Inconclusive,
                    Err(o) if o != expected => {
                        return CaseResult::Mismatch(format!(
                            "{name} and wasmi differ instantiating: {o:?} vs {expected:?}"
                        ))
                    }
                    Err(_) => {}
                }
            }
            return CaseResult::Compared { calls: 0 };
        }
        Record::Ran { funcs, calls } => (funcs, calls),
    };
    let (wasm, rng) = generate(seed).unwrap();
    if let Ok(dir) = std::env::var("FACT_DIFF_DUMP") {
        std::fs::write(format!("{dir}/case-{seed}.wasm"), &wasm).unwrap();
    }
    let mut compared = usize::MAX;
    // The calls of the default configuration, as JSON lines, for `FACT_DIFF_DUMP`.
    let mut trace = String::new();
    for (name, engine) in facts {
        let mut rng = Rng(rng.0);
        let mut run = match FactRun::new(engine, &wasm, seed, name) {
            Ok(run) => run,
            Err(Outcome::StackExhausted) => return CaseResult::Inconclusive,
            Err(o) => {
                return CaseResult::Mismatch(format!(
                    "{name} trapped at instantiation ({o:?}), wasmi did not"
                ))
            }
        };
        assert_eq!(
            run.funcs(),
            funcs,
            "seed {seed}: {name}'s exported functions"
        );
        let mut n = 0;
        for ((func, params), expected) in funcs.iter().zip(&calls) {
            let args = arguments(&mut rng, params);
            if expected.outcome == Outcome::StackExhausted {
                return CaseResult::Inconclusive;
            }
            let outcome = run.call(func, &args);
            if outcome == Outcome::StackExhausted {
                return CaseResult::Inconclusive;
            }
            let state = run.snapshot();
            if *name == "fact" {
                let call = serde_json::json!({
                    "func": func, "args": args, "outcome": outcome, "state": state
                });
                trace.push_str(&format!("{call}\n"));
            }
            if outcome != expected.outcome {
                dump_calls(seed, &trace);
                return CaseResult::Mismatch(format!(
                    "{name} and wasmi differ calling {func:?} with {args:?}: {outcome:?} vs {:?}",
                    expected.outcome
                ));
            }
            if state != expected.state {
                dump_calls(seed, &trace);
                return CaseResult::Mismatch(format!(
                    "{name} and wasmi differ in state after calling {func:?} with {args:?}: \
                     {state:?} vs {:?}",
                    expected.state
                ));
            }
            n += 1;
        }
        compared = compared.min(n);
    }
    dump_calls(seed, &trace);
    CaseResult::Compared { calls: compared }
}

/// With `FACT_DIFF_DUMP`, writes the calls fact made in case `seed`, with their outcomes
/// and the state after each, as JSON lines.
fn dump_calls(seed: u64, trace: &str) {
    if let Ok(dir) = std::env::var("FACT_DIFF_DUMP") {
        std::fs::write(format!("{dir}/case-{seed}.calls"), trace).unwrap();
    }
}

/// Whether a module has a tag section (exception handling).
fn defines_tags(wasm: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .any(|p| matches!(p, Ok(wasmparser::Payload::TagSection(_))))
}

fn main() {
    let cases = env("FACT_DIFF_CASES", 300);
    let seed = env("FACT_DIFF_SEED", 0);
    if std::env::var_os("FACT_DIFF_ORACLE_CHILD").is_some() {
        oracle_child(seed, cases);
        return;
    }
    let facts = fact_engines();
    let mut oracle = Oracle::start(seed, seed + cases);
    let (mut accepted, mut compared, mut inconclusive, mut crashed, mut calls) =
        (0u64, 0u64, 0u64, Vec::new(), 0usize);
    let (mut mismatches, mut oracle_wrong) = (Vec::new(), Vec::new());
    let mut with_tags = 0u64;
    for s in seed..seed + cases {
        let from_oracle = oracle.record(s);
        if Profile::of(s) == Profile::FactOnly
            && generate(s).is_some_and(|(wasm, _)| defines_tags(&wasm))
        {
            with_tags += 1;
        }
        let mut result = match (Profile::of(s), from_oracle) {
            (Profile::FactOnly, _) => run_case(s, fact_record(&facts[0].1, s), &facts[1..]),
            (Profile::Shared, Ok(record)) => run_case(s, record, &facts),
            (Profile::Shared, Err(death)) => CaseResult::OracleCrashed(death),
        };
        if let (Profile::FactOnly, CaseResult::Mismatch(what)) = (Profile::of(s), &result) {
            panic!("seed {s}: fact's configurations disagree: {what}");
        }
        if let CaseResult::Mismatch(what) = &result {
            // wasmi's results on some modules depend on what its process ran before (the
            // cases where it crashes show its memory being corrupted): ask a fresh process.
            println!("seed {s}: {what}");
            result = match fresh_record(s) {
                Ok(record) => match run_case(s, record, &facts) {
                    CaseResult::Mismatch(_) => match KNOWN_ORACLE_BUGS.iter().find(|b| b.0 == s) {
                        Some((_, why)) => {
                            println!("seed {s}: a known wasmi bug: {why}");
                            CaseResult::OracleWrong
                        }
                        None => result,
                    },
                    CaseResult::Compared { .. } => {
                        println!("seed {s}: a fresh wasmi process agrees with fact");
                        CaseResult::OracleWrong
                    }
                    other => other,
                },
                Err(death) => CaseResult::OracleCrashed(death),
            };
        }
        match result {
            CaseResult::NotAccepted => {}
            CaseResult::Inconclusive => {
                accepted += 1;
                inconclusive += 1;
            }
            CaseResult::OracleCrashed(death) => {
                accepted += 1;
                crashed.push((s, death));
            }
            CaseResult::Compared { calls: n } => {
                accepted += 1;
                if n > 0 {
                    compared += 1;
                }
                calls += n;
            }
            CaseResult::OracleWrong => {
                accepted += 1;
                oracle_wrong.push(s);
            }
            CaseResult::Mismatch(_) => {
                accepted += 1;
                mismatches.push(s);
            }
        }
    }
    // Crashes by how the oracle died, with their seeds.
    let mut deaths: Vec<(String, Vec<u64>)> = Vec::new();
    for (s, death) in &crashed {
        match deaths.iter_mut().find(|(d, _)| d == death) {
            Some((_, seeds)) => seeds.push(*s),
            None => deaths.push((death.clone(), vec![*s])),
        }
    }
    let deaths: Vec<String> = deaths
        .iter()
        .map(|(d, seeds)| format!("{d}: {seeds:?}"))
        .collect();
    println!(
        "differential: seeds {seed}..{}: {cases} generated, {accepted} accepted by both, \
         {compared} compared ({calls} calls), {inconclusive} inconclusive, \
         {} crashed the oracle [{}], {} where the oracle was wrong {oracle_wrong:?}, \
         {} mismatched {mismatches:?}; {with_tags} fact-only modules define tags",
        seed + cases,
        crashed.len(),
        deaths.join("; "),
        oracle_wrong.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "fact and wasmi disagree on {mismatches:?}"
    );
    assert!(
        compared * 10 >= cases * 9,
        "only {compared} of {cases} cases ran an export on both engines"
    );
}
