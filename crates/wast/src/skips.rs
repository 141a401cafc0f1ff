//! Skip lists: which conformance scripts (or directives) are not run, and why.
//!
//! One entry per line, `#` starts a comment:
//!
//! ```text
//! array.wast        GC
//! imports.wast:123  a directive that needs typed function references
//! ```
//!
//! A bare file name skips the whole file; `dir/` skips every file below `dir`;
//! `file:line` skips the directive starting on that line. Names are paths relative to the
//! suite's directory. Everything after the name is the reason, which is required.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct SkipList {
    /// File name → reason.
    pub files: HashMap<String, String>,
    /// File name → (line → reason).
    pub lines: HashMap<String, HashMap<usize, String>>,
}

impl SkipList {
    pub fn parse(text: &str) -> Result<SkipList> {
        let mut list = SkipList::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (name, reason) = line
                .split_once(char::is_whitespace)
                .map(|(n, r)| (n, r.trim()))
                .with_context(|| format!("skip list line {}: missing the reason", i + 1))?;
            if reason.is_empty() {
                bail!("skip list line {}: missing the reason", i + 1);
            }
            match name.rsplit_once(':') {
                Some((file, n)) if n.chars().all(|c| c.is_ascii_digit()) => {
                    list.lines
                        .entry(file.to_string())
                        .or_default()
                        .insert(n.parse()?, reason.to_string());
                }
                _ => {
                    list.files.insert(name.to_string(), reason.to_string());
                }
            }
        }
        Ok(list)
    }

    pub fn load(path: &Path) -> Result<SkipList> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read skip list {}", path.display()))?;
        SkipList::parse(&text)
    }

    /// Why the file `name` (relative to the suite's directory) is skipped, if it is: it
    /// is named, or a directory above it is.
    pub fn file_reason(&self, name: &str) -> Option<&str> {
        if let Some(r) = self.files.get(name) {
            return Some(r);
        }
        self.files
            .iter()
            .find(|(k, _)| k.ends_with('/') && name.starts_with(k.as_str()))
            .map(|(_, r)| r.as_str())
    }

    /// The skipped lines of the file `name`.
    pub fn lines_for(&self, name: &str) -> HashMap<usize, String> {
        self.lines.get(name).cloned().unwrap_or_default()
    }
}

/// What [`SkipList::check`] found.
#[derive(Debug, Default)]
pub struct SkipCheck {
    /// How many entries were checked.
    pub checked: usize,
    /// The entries no longer needed, each with why (`name: passes now …`).
    pub unneeded: Vec<String>,
}

impl SkipList {
    /// Runs every script the list names, without skipping anything, and reports the
    /// entries that are no longer needed. `files` are the suite's scripts with their names
    /// (paths relative to the suite). A file or directory entry is needed while one of its
    /// scripts has a failure; a directive entry while that directive fails. So an entry
    /// cannot outlive its reason by being reworded.
    pub fn check(&self, engine: &fact::Engine, files: &[(PathBuf, String)]) -> SkipCheck {
        let mut check = SkipCheck::default();
        // The scripts named, run without skips, with the lines of their failures (`None`:
        // the script could not be run at all).
        let mut runs: Vec<(&str, Option<Vec<usize>>)> = Vec::new();
        for (file, name) in files {
            if self.file_reason(name).is_none() && !self.lines.contains_key(name) {
                continue;
            }
            let report = crate::run_file(engine, file, &HashMap::new());
            let lines = match report.error {
                Some(_) => None,
                None => Some(report.failures.iter().map(|f| f.line).collect()),
            };
            runs.push((name, lines));
        }
        let fails = |lines: &Option<Vec<usize>>| lines.as_ref().is_none_or(|l| !l.is_empty());

        let mut entries: Vec<_> = self.files.iter().collect();
        entries.sort();
        for (entry, reason) in entries {
            check.checked += 1;
            let covered: Vec<_> = runs
                .iter()
                .filter(|(name, _)| {
                    name == entry || (entry.ends_with('/') && name.starts_with(entry.as_str()))
                })
                .collect();
            if covered.is_empty() {
                check.unneeded.push(format!("{entry}: matches no script"));
            } else if !covered.iter().any(|(_, lines)| fails(lines)) {
                check
                    .unneeded
                    .push(format!("{entry}: passes now (skipped for: {reason})"));
            }
        }
        let mut entries: Vec<_> = self.lines.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (file, lines) in entries {
            let run = runs.iter().find(|(name, _)| name == file);
            let mut lines: Vec<_> = lines.iter().collect();
            lines.sort();
            for (line, reason) in lines {
                check.checked += 1;
                match run {
                    None => check
                        .unneeded
                        .push(format!("{file}:{line}: matches no script")),
                    Some((_, Some(failed))) if !failed.contains(line) => check
                        .unneeded
                        .push(format!("{file}:{line}: passes now (skipped for: {reason})")),
                    Some(_) => {}
                }
            }
        }
        check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_files_and_lines() {
        let list =
            SkipList::parse("# c\narray.wast GC types\nimports.wast:12  typed refs # x\n").unwrap();
        assert_eq!(list.file_reason("array.wast"), Some("GC types"));
        assert_eq!(list.lines_for("imports.wast")[&12], "typed refs");
        assert!(SkipList::parse("lonely.wast\n").is_err());
    }
}
