//! `fact wast`.

use anyhow::Result;
use fact_wast::{SkipList, Summary};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct WastArgs {
    /// Scripts, or directories to search for `*.wast` files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A skip list (see `wast-tests/core/spec-skip.txt`): files and directives not run.
    #[arg(long)]
    skip_list: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Print a Markdown conformance table (used for docs/conformance.md).
    #[arg(long)]
    markdown: bool,
    /// Compile with explicit bounds checks instead of guard pages.
    #[arg(long)]
    bounds_checks: bool,
    /// Check the skip list instead: run every file and directive it names and fail if
    /// one of them passes now (its entry is no longer needed).
    #[arg(long, requires = "skip_list")]
    check_skips: bool,
}

/// Expands directories into the `.wast` files below them, sorted, each with its name for
/// the skip list: the path relative to the directory given (the file name for a file).
pub fn collect(paths: &[PathBuf]) -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else if p.extension().is_some_and(|e| e == "wast") {
                let name = p.strip_prefix(root).unwrap_or(&p).to_string_lossy();
                out.push((p.clone(), name.replace('\\', "/")));
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, p, &mut out);
        } else {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            out.push((p.clone(), name.to_string()));
        }
    }
    out
}

pub fn run(args: WastArgs) -> Result<ExitCode> {
    let skips = match &args.skip_list {
        Some(p) => SkipList::load(p)?,
        None => SkipList::default(),
    };
    let mut config = fact_wast::config();
    config.guard_pages(!args.bounds_checks);
    let engine = fact::Engine::new(&config)?;
    if args.check_skips {
        return check_skips(&engine, &args.files, &skips);
    }
    let mut summary = Summary::default();
    let mut skipped_files = Vec::new();
    for (file, name) in collect(&args.files) {
        if let Some(reason) = skips.file_reason(&name) {
            skipped_files.push((name, reason.to_string()));
            continue;
        }
        let report = fact_wast::run_file(&engine, &file, &skips.lines_for(&name));
        if !args.json && !args.markdown {
            print!("{}", report.to_text());
        }
        summary.add(report);
    }
    if args.json {
        println!("{}", summary.to_json());
    } else if args.markdown {
        print!("{}", fact_wast::report::markdown(&summary, &skipped_files));
    } else {
        if !skipped_files.is_empty() {
            println!("{} files skipped by the skip list", skipped_files.len());
        }
        println!("{}", summary.summary_line());
    }
    Ok(if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--check-skips`: prints every skip-list entry that is no longer needed.
fn check_skips(engine: &fact::Engine, paths: &[PathBuf], skips: &SkipList) -> Result<ExitCode> {
    let check = skips.check(engine, &collect(paths));
    for entry in &check.unneeded {
        println!("{entry}");
    }
    println!(
        "{} skip entries checked, {} no longer needed",
        check.checked,
        check.unneeded.len()
    );
    Ok(if check.unneeded.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
