//! Conformance: the WebAssembly core spec testsuite (from `../shared/testsuite`, when it
//! is there), the component model's reference tests (from
//! `../shared/component-model-tests`), and the project's own scripts in `wast-tests/`.

use fact_wast::{run_file, SkipList, Summary};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
    let dir = repo().join("../shared/testsuite");
    if !dir.is_dir() {
        println!(
            "SKIPPED: {} not found, the core spec testsuite was not run",
            dir.display()
        );
        return;
    }
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

#[test]
fn own_core_scripts() {
    let summary = run_dir(&repo().join("wast-tests/core"), &SkipList::default(), true);
    assert!(summary.passed > 0);
    assert_all_pass(&summary);
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

#[test]
fn component_reference_suite() {
    let dir = repo().join("../shared/component-model-tests");
    if !dir.is_dir() {
        println!(
            "SKIPPED: {} not found, the component model reference tests were not run",
            dir.display()
        );
        return;
    }
    let skips = SkipList::load(&repo().join("wast-tests/component/reference-skip.txt")).unwrap();
    let engine = fact::Engine::new(&fact_wast::config()).unwrap();
    let mut summary = Summary::default();
    for (file, name) in wast_tree(&dir) {
        if skips.file_reason(&name).is_some() {
            continue;
        }
        summary.add(run_file(&engine, &file, &skips.lines_for(&name)));
    }
    assert!(
        summary.passed > 500,
        "suspiciously few directives ran: {}",
        summary.passed
    );
    assert_all_pass(&summary);
}

#[test]
fn own_component_scripts() {
    let dir = repo().join("wast-tests/component");
    let summary = run_dir(&dir, &SkipList::default(), true);
    assert!(summary.passed > 0);
    assert_all_pass(&summary);
}
