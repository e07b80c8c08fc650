//! Shared helpers: fixture paths, temporary directories, reference runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use koschei_solver::{LoadOptions, Repository};

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A hand-written fixture case under `tests/data/<case>`.
pub(crate) fn fixture(case: &str) -> PathBuf {
    manifest_dir().join("tests").join("data").join(case)
}

/// The shared test data (`../shared/data` beside the repository root).
pub(crate) fn shared_data(name: &str) -> PathBuf {
    manifest_dir()
        .join("..")
        .join("..")
        .join("shared")
        .join("data")
        .join(name)
}

/// A fresh directory removed on drop.
pub(crate) struct TempDir(PathBuf);

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "koschei-solver-it-{}-{label}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a directory tree.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Load options with the repo named after its directory (as `koschei resolve`
/// and the hawkey reference script do) and a private cache.
pub(crate) fn options(cache: &Path) -> LoadOptions {
    LoadOptions {
        name: "binary".to_owned(),
        cache_dir: cache.to_owned(),
        ..LoadOptions::default()
    }
}

pub(crate) fn load(dir: &Path, cache: &Path) -> Repository {
    Repository::load(dir, &options(cache))
        .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
}
