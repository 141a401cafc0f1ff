//! Results of running scripts, and how they are printed (text or JSON).

use serde::Serialize;
use std::fmt::Write as _;

/// One directive that did not do what the script expected.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub line: usize,
    pub column: usize,
    /// The directive's kind, e.g. `assert_return`.
    pub directive: String,
    pub expected: String,
    pub actual: String,
}

/// The outcome of one script.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// `assert_invalid` / `assert_malformed` directives that passed (the module was
    /// rejected) but with a message other than the script's. Information only.
    pub message_mismatches: usize,
    pub failures: Vec<Failure>,
    /// Why directives were skipped, with counts.
    pub skip_reasons: Vec<(String, usize)>,
    /// Set when the script itself could not be read or parsed.
    pub error: Option<String>,
}

impl FileReport {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.error.is_none()
    }

    pub(crate) fn skip(&mut self, reason: &str) {
        self.skipped += 1;
        match self.skip_reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += 1,
            None => self.skip_reasons.push((reason.to_string(), 1)),
        }
    }

    /// The report as text: a summary line, then each failure.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}: {} passed, {} failed, {} skipped\n",
            self.file, self.passed, self.failed, self.skipped
        );
        if let Some(e) = &self.error {
            let _ = writeln!(out, "  error: {e}");
        }
        for (reason, n) in &self.skip_reasons {
            let _ = writeln!(out, "  skipped {n}: {reason}");
        }
        for f in &self.failures {
            let _ = writeln!(
                out,
                "  {}:{}:{}: {} failed\n    expected: {}\n    actual:   {}",
                self.file,
                f.line,
                f.column,
                f.directive,
                indent(&f.expected),
                indent(&f.actual)
            );
        }
        out
    }
}

fn indent(s: &str) -> String {
    s.trim_end().replace('\n', "\n              ")
}

/// The outcome of a run of several scripts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub files: Vec<FileReport>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn add(&mut self, report: FileReport) {
        self.passed += report.passed;
        self.failed += report.failed + usize::from(report.error.is_some());
        self.skipped += report.skipped;
        self.files.push(report);
    }

    pub fn ok(&self) -> bool {
        self.files.iter().all(FileReport::ok)
    }

    /// The final line of a text report.
    pub fn summary_line(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }
}

/// A Markdown table of per-file results, followed by the skipped files and reasons.
pub fn markdown(summary: &Summary, skipped_files: &[(String, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| file | passed | failed | skipped directives |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for f in &summary.files {
        let name = std::path::Path::new(&f.file)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| f.file.clone());
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            f.passed,
            f.failed + usize::from(f.error.is_some()),
            f.skipped
        );
    }
    let _ = writeln!(
        out,
        "| **total** | **{}** | **{}** | **{}** |",
        summary.passed, summary.failed, summary.skipped
    );
    if !skipped_files.is_empty() {
        let _ = writeln!(out, "\nSkipped files ({}):\n", skipped_files.len());
        let _ = writeln!(out, "| file | reason |\n|---|---|");
        for (f, r) in skipped_files {
            let _ = writeln!(out, "| {f} | {r} |");
        }
    }
    out
}
