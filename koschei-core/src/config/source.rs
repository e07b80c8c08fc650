//! Reading configuration files: TOML parsing with file, line and key in every error,
//! the recursive merge, and the record of which file set which key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::raw::RawConfig;
use super::{Error, ErrorKind};

/// Where each dotted key of the merged configuration came from (`file:line`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Origins(BTreeMap<String, String>);

impl Origins {
    /// The origin of `key` or of its nearest parent that has one.
    pub(crate) fn of(&self, key: &str) -> String {
        let mut k = key;
        loop {
            if let Some(o) = self.0.get(k) {
                return o.clone();
            }
            match k.rsplit_once('.') {
                Some((parent, _)) => k = parent,
                None => return "built-in defaults".to_owned(),
            }
        }
    }

    pub(crate) fn set(&mut self, key: String, origin: String) {
        self.0.insert(key, origin);
    }
}

/// One parsed configuration file.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    pub(crate) table: toml::Table,
}

/// Parses `text` (read from `path`): checks syntax, types and keys against [`RawConfig`],
/// records the origin of each key, and returns the table to merge.
pub(crate) fn parse_file(
    path: &Path,
    text: &str,
    origins: &mut Origins,
) -> Result<ParsedFile, Error> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => return Err(file_error(path, text, None, &e, ErrorKind::Syntax)),
    };
    if let Err(e) = toml::from_str::<RawConfig>(text) {
        let kind = if e.message().starts_with("unknown field") {
            ErrorKind::UnknownKey
        } else if e.message().starts_with("invalid type")
            || e.message().starts_with("invalid value")
            || e.message().starts_with("invalid length")
        {
            ErrorKind::WrongType
        } else {
            ErrorKind::Invalid
        };
        return Err(file_error(path, text, Some(doc.get_ref()), &e, kind));
    }
    record_origins(path, text, doc.get_ref(), "", origins);
    let table = toml::from_str::<toml::Table>(text)
        .map_err(|e| file_error(path, text, Some(doc.get_ref()), &e, ErrorKind::Syntax))?;
    Ok(ParsedFile { table })
}

fn file_error(
    path: &Path,
    text: &str,
    doc: Option<&DeTable<'_>>,
    e: &toml::de::Error,
    kind: ErrorKind,
) -> Error {
    let offset = e.span().map(|s| s.start).unwrap_or(0);
    let (line, column) = line_col(text, offset);
    let key = doc
        .map(|d| {
            let mut path = Vec::new();
            key_at(d, offset, &mut path);
            path
        })
        .filter(|p| !p.is_empty())
        .map(|p| p.join("."))
        .or_else(|| key_on_line(text, line))
        .unwrap_or_else(|| "-".to_owned());
    Error::File {
        path: path.to_path_buf(),
        line,
        column,
        key,
        kind,
        message: e.message().trim().to_owned(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && (offset < span.end || span.is_empty() && offset == span.start)
}

/// Pushes the dotted key path of the innermost entry containing `offset`.
fn key_at(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
    for (k, v) in table.iter() {
        let in_key = contains(&k.span(), offset);
        let in_value = contains(&v.span(), offset);
        if in_key || in_value {
            path.push(k.get_ref().to_string());
            if in_value {
                value_key_at(v.get_ref(), offset, path);
            }
            return true;
        }
        // Header tables (`[a.b]`) have spans covering only the header; look inside too.
        if let DeValue::Table(t) = v.get_ref() {
            path.push(k.get_ref().to_string());
            if key_at(t, offset, path) {
                return true;
            }
            path.pop();
        }
        if let DeValue::Array(items) = v.get_ref() {
            path.push(k.get_ref().to_string());
            for item in items {
                if let DeValue::Table(t) = item.get_ref()
                    && key_at(t, offset, path)
                {
                    return true;
                }
            }
            path.pop();
        }
    }
    false
}

fn value_key_at(value: &DeValue<'_>, offset: usize, path: &mut Vec<String>) {
    match value {
        DeValue::Table(t) => {
            key_at(t, offset, path);
        }
        DeValue::Array(items) => {
            for item in items {
                if contains(&item.span(), offset) {
                    value_key_at(item.get_ref(), offset, path);
                }
            }
        }
        _ => {}
    }
}

/// The key written at the start of line `line` (1-based), prefixed by the table header
/// above it, for errors where the document could not be parsed.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let l = lines.get(line.checked_sub(1)?)?.trim();
    let key = match l.split_once('=') {
        Some((key, _)) => key.trim(),
        None => return header_name(l),
    };
    if key.is_empty() {
        return None;
    }
    let table = lines[..line - 1]
        .iter()
        .rev()
        .find_map(|l| header_name(l.trim()));
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_owned(),
    })
}

/// `a.b` for a line `[a.b]` or `[[a.b]]`.
fn header_name(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let end = inner.find(']').unwrap_or(inner.len());
    let name = inner[..end].trim();
    (!name.is_empty()).then(|| name.replace(' ', ""))
}

fn record_origins(
    path: &Path,
    text: &str,
    table: &DeTable<'_>,
    prefix: &str,
    origins: &mut Origins,
) {
    for (k, v) in table.iter() {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let (line, _) = line_col(text, k.span().start);
        origins.set(key.clone(), format!("`{}` line {line}", path.display()));
        if let DeValue::Table(t) = v.get_ref() {
            record_origins(path, text, t, &key, origins);
        }
    }
}

/// Merges `overlay` into `base`: tables merge recursively, anything else is replaced.
pub(crate) fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Files of `dir` ending in `.toml`, sorted by name; a missing directory is empty.
pub(crate) fn toml_files_in(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a = 1\nb = 2\n", 6), (2, 1));
        assert_eq!(line_col("a = 1\nb = 2\n", 10), (2, 5));
        assert_eq!(line_col("", 0), (1, 1));
    }

    #[test]
    fn merge_is_recursive_and_replaces_lists() {
        let mut base: toml::Table = toml::from_str("a = [1, 2]\n[t]\nx = 1\ny = 2\n").unwrap();
        let over: toml::Table = toml::from_str("a = [3]\n[t]\ny = 5\n").unwrap();
        merge(&mut base, over);
        let want: toml::Table = toml::from_str("a = [3]\n[t]\nx = 1\ny = 5\n").unwrap();
        assert_eq!(base, want);
    }
}
