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
use std::path::Path;

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
