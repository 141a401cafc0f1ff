//! Conformance: the WebAssembly core spec testsuite (from `../shared/testsuite`, when it
//! is there), the component model's reference tests (from
//! `../shared/component-model-tests`), and the project's own scripts in `wast-tests/`.

use fact_wast::{run_file, SkipList, Summary};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The suite directory `name` beside the checkout, or `None` (with a note) if it is
/// absent. In CI (`CI=true`) the suites must be there.
fn shared_suite(name: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared").join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} not found: CI runs with ../shared beside the checkout",
        dir.display()
    );
    println!(
        "SKIPPED: {} not found, the suite was not run",
        dir.display()
    );
    None
}

/// Every `.wast` file directly in `dir`, named by file name (as the core skip list names
/// them).
fn named_files(dir: &Path) -> Vec<(PathBuf, String)> {
    wast_files(dir)
        .into_iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            (f, name)
        })
        .collect()
}

/// Fails if an entry of `skips` is no longer needed for the suite's `files`.
fn assert_skips_needed(skips: &SkipList, files: &[(PathBuf, String)]) {
    let engine = fact::Engine::new(&fact_wast::config()).unwrap();
    let check = skips.check(&engine, files);
    assert!(check.checked > 0);
    assert!(
        check.unneeded.is_empty(),
        "skip entries no longer needed:\n{}",
        check.unneeded.join("\n")
    );
}

fn wast_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    files
}

fn run_dir(dir: &Path, skips: &SkipList, guard_pages: bool) -> Summary {
    let mut config = fact_wast::config();
    config.guard_pages(guard_pages);
    let engine = fact::Engine::new(&config).unwrap();
    let mut summary = Summary::default();
    for file in wast_files(dir) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if skips.file_reason(&name).is_some() {
            continue;
        }
        summary.add(run_file(&engine, &file, &skips.lines_for(&name)));
    }
    summary
}

fn assert_all_pass(summary: &Summary) {
    let failures: String = summary
        .files
        .iter()
        .filter(|f| !f.ok())
        .map(|f| f.to_text())
        .collect();
    assert!(summary.ok(), "conformance failures:\n{failures}");
    println!("{}", summary.summary_line());
}

fn spec_suite(guard_pages: bool) {
    let Some(dir) = shared_suite("testsuite") else {
        return;
    };
    let skips = SkipList::load(&repo().join("wast-tests/core/spec-skip.txt")).unwrap();
    for name in skips.files.keys().chain(skips.lines.keys()) {
        assert!(
            dir.join(name).is_file(),
            "the skip list names {name}, which is not in the suite"
        );
    }
    let summary = run_dir(&dir, &skips, guard_pages);
    assert!(
        summary.passed > 50_000,
        "suspiciously few directives ran: {}",
        summary.passed
    );
    assert_all_pass(&summary);
}

#[test]
fn core_spec_testsuite() {
    spec_suite(true);
}

#[test]
fn core_spec_testsuite_with_bounds_checks() {
    spec_suite(false);
}

/// The relaxed SIMD files accept either behaviour; they run by default in fast mode and
/// here in the deterministic profile.
#[test]
fn core_spec_relaxed_simd_files_in_deterministic_mode() {
    let Some(dir) = shared_suite("testsuite") else {
        return;
    };
    let mut config = fact_wast::config();
    config.relaxed_simd_deterministic(true);
    let engine = fact::Engine::new(&config).unwrap();
    let mut summary = Summary::default();
    for (file, name) in named_files(&dir) {
        if name.contains("relaxed") {
            summary.add(run_file(&engine, &file, &Default::default()));
        }
    }
    assert!(
        summary.files.len() >= 7,
        "the relaxed SIMD files are missing"
    );
    assert_all_pass(&summary);
}

#[test]
fn core_spec_skip_list_has_only_needed_entries() {
    let Some(dir) = shared_suite("testsuite") else {
        return;
    };
    let skips = SkipList::load(&repo().join("wast-tests/core/spec-skip.txt")).unwrap();
    assert_skips_needed(&skips, &named_files(&dir));
}

#[test]
fn failures_are_reported_with_positions() {
    let engine = fact::Engine::new(&fact_wast::config()).unwrap();
    let script = "(module (func (export \"f\") (result i32) i32.const 1))\n\
                  (assert_return (invoke \"f\") (i32.const 2))\n\
                  (assert_trap (invoke \"f\") \"unreachable\")\n\
                  (assert_return (invoke \"f\") (i32.const 1))\n";
    let report = fact_wast::run_script(&engine, "t.wast", script, &Default::default());
    assert_eq!((report.passed, report.failed), (2, 2));
    assert_eq!(report.failures[0].line, 2);
    assert_eq!(report.failures[0].directive, "assert_return");
    assert!(report
        .to_text()
        .starts_with("t.wast: 2 passed, 2 failed, 0 skipped"));
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["failed"], 2);
}

/// Every `.wast` file below `dir`, with its path relative to `dir` (the skip list's name).
fn wast_tree(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|e| e == "wast") {
                let name = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((p, name));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn component_reference_suite(guard_pages: bool) {
    let Some(dir) = shared_suite("component-model-tests") else {
        return;
    };
    let skips = SkipList::load(&repo().join("wast-tests/component/reference-skip.txt")).unwrap();
    let mut config = fact_wast::config();
    config.guard_pages(guard_pages);
    let engine = fact::Engine::new(&config).unwrap();
    let mut summary = Summary::default();
    for (file, name) in wast_tree(&dir) {
        if skips.file_reason(&name).is_some() {
            continue;
        }
        summary.add(run_file(&engine, &file, &skips.lines_for(&name)));
    }
    assert!(
        summary.passed > 900,
        "suspiciously few directives ran: {}",
        summary.passed
    );
    assert_all_pass(&summary);
}

#[test]
fn component_reference_tests() {
    component_reference_suite(true);
}

#[test]
fn component_reference_tests_with_bounds_checks() {
    component_reference_suite(false);
}

#[test]
fn component_reference_skip_list_has_only_needed_entries() {
    let Some(dir) = shared_suite("component-model-tests") else {
        return;
    };
    let skips = SkipList::load(&repo().join("wast-tests/component/reference-skip.txt")).unwrap();
    assert_skips_needed(&skips, &wast_tree(&dir));
}

/// One test per script of the project's own (`cargo test --test conformance strings` runs
/// the tests of the scripts named `strings`), each in both memory modes;
/// `own_scripts_are_all_listed` keeps the list complete.
macro_rules! own_scripts {
    ($($dir:literal => [$($test:ident: $file:literal),* $(,)?]),* $(,)?) => {
        $($(
            #[test]
            fn $test() {
                run_own_script($dir, $file);
            }
        )*)*
        const OWN_SCRIPTS: &[(&str, &str)] = &[$($(($dir, $file),)*)*];
    };
}

own_scripts! {
    "core" => [
        core_epoch: "epoch.wast",
        core_exceptions: "exceptions.wast",
        core_host_calls: "host-calls.wast",
        core_multi_memory: "multi-memory.wast",
        core_relaxed_simd_deterministic: "relaxed-simd-deterministic.wast",
        core_tail_calls: "tail-calls.wast",
        core_typed_function_references: "typed-function-references.wast",
    ],
    "component" => [
        component_exceptions: "exceptions.wast",
        component_fused: "fused.wast",
        component_lists: "lists.wast",
        component_nested: "nested.wast",
        component_resources: "resources.wast",
        component_string_limits: "string-limits.wast",
        component_strings: "strings.wast",
        component_traps: "traps.wast",
    ],
}

/// Runs `wast-tests/{dir}/{file}` with guard pages and with explicit bounds checks.
fn run_own_script(dir: &str, file: &str) {
    let path = repo().join("wast-tests").join(dir).join(file);
    for guard_pages in [true, false] {
        let mut config = fact_wast::config();
        config.guard_pages(guard_pages);
        let engine = fact::Engine::new(&config).unwrap();
        let mut summary = Summary::default();
        summary.add(run_file(
            &engine,
            &path,
            &SkipList::default().lines_for(file),
        ));
        assert!(summary.passed > 0, "{} ran nothing", path.display());
        assert_all_pass(&summary);
    }
}

#[test]
fn own_scripts_are_all_listed() {
    for dir in ["core", "component"] {
        for file in wast_files(&repo().join("wast-tests").join(dir)) {
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                OWN_SCRIPTS.contains(&(dir, name.as_str())),
                "wast-tests/{dir}/{name} has no test in `own_scripts!`"
            );
        }
    }
}
