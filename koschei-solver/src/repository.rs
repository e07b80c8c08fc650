//! Loading rpm-md repositories through a verified `.solv` cache.
//!
//! Every answer comes from a pool loaded from the `.solv` files libsolv
//! writes, never straight from the XML: that is what libdnf does with
//! `build_cache` on, and loading from XML can pick a different one of two
//! equal alternatives (spec/solver-facts.md, section 2). The first load of a
//! repository parses the XML once, writes the cache, then loads the cache
//! like every later load does.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::Digest;

use crate::error::SolverError;
use crate::ffi;
use crate::metadata::{self, SourcePackage};
use crate::wrapper::{self, Pool};
use koschei_core::repo::repomd::{self, Record as RepomdEntry};

/// How to load a repository.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Repository name used in problem texts (`... from <name>`).
    pub name: String,
    /// Architecture to resolve for (noarch and the arch's compatible arches
    /// are installable, as rpm's arch policy says).
    pub arch: String,
    /// Directory holding the `.solv` cache files (created when missing).
    pub cache_dir: PathBuf,
    /// Comps group id of the build group.
    pub group: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            name: "build".to_owned(),
            arch: "x86_64".to_owned(),
            cache_dir: std::env::temp_dir().join("koschei-solv-cache"),
            group: "build".to_owned(),
        }
    }
}

/// A loaded, verified binary repository: the `.solv` cache files plus the
/// build group. Cheap to share between threads; each thread loads its own
/// pool from the cache (see [`crate::Resolver`]).
#[derive(Debug, Clone)]
pub struct Repository {
    name: String,
    arch: String,
    dir: PathBuf,
    checksum: String,
    main_solv: PathBuf,
    ext_solv: Option<PathBuf>,
    build_group: Option<Vec<String>>,
    packages: usize,
    from_cache: bool,
    load_time: Duration,
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("ftp://")
}

/// The repository directory, refusing URLs (fetching is not done here).
pub(crate) fn local_dir(dir: &Path) -> Result<&Path, SolverError> {
    match dir.to_str() {
        Some(s) if is_url(s) => Err(SolverError::UrlNotSupported(s.to_owned())),
        _ => Ok(dir),
    }
}

struct Repomd {
    path: PathBuf,
    sha256: [u8; 32],
    entries: Vec<RepomdEntry>,
}

fn read_repomd(dir: &Path) -> Result<Repomd, SolverError> {
    let path = dir.join("repodata").join("repomd.xml");
    let bytes = std::fs::read(&path).map_err(|e| SolverError::io(&path, e))?;
    let sha256: [u8; 32] = sha2::Sha256::digest(&bytes).into();
    let entries = repomd::parse(&bytes)
        .map_err(|e| SolverError::Repomd {
            path: path.clone(),
            message: e.to_string(),
        })?
        .records;
    Ok(Repomd {
        path,
        sha256,
        entries,
    })
}

impl Repomd {
    fn entry(&self, kind: &str) -> Option<&RepomdEntry> {
        self.entries.iter().find(|e| e.kind == kind)
    }

    fn require(&self, kind: &str) -> Result<&RepomdEntry, SolverError> {
        self.entry(kind).ok_or_else(|| SolverError::Repomd {
            path: self.path.clone(),
            message: format!("no `{kind}` entry"),
        })
    }
}

/// Checks a metadata file against its repomd checksum; returns its bytes.
fn verified_bytes(dir: &Path, entry: &RepomdEntry) -> Result<(PathBuf, Vec<u8>), SolverError> {
    let path = dir.join(&entry.href);
    let bytes = std::fs::read(&path).map_err(|e| SolverError::io(&path, e))?;
    if !entry.checksum.matches(&bytes) {
        let mut h = repomd::Hasher::new(entry.checksum.kind);
        h.update(&bytes);
        return Err(SolverError::Checksum {
            path,
            kind: entry.checksum.kind.as_str().to_owned(),
            expected: entry.checksum.hex.clone(),
            actual: h.finish(),
        });
    }
    Ok((path, bytes))
}

fn verify(dir: &Path, entry: &RepomdEntry) -> Result<PathBuf, SolverError> {
    verified_bytes(dir, entry).map(|(p, _)| p)
}

/// Decompressed content of a verified metadata file.
fn verified_content(dir: &Path, entry: &RepomdEntry) -> Result<(PathBuf, Vec<u8>), SolverError> {
    let path = verify(dir, entry)?;
    let content = wrapper::read_decompressed(&path).map_err(|message| SolverError::Parse {
        path: path.clone(),
        message,
    })?;
    Ok((path, content))
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn tmp_path(final_path: &Path) -> PathBuf {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = final_path.as_os_str().to_owned();
    s.push(format!(".tmp.{}.{n}", std::process::id()));
    PathBuf::from(s)
}

/// Whether `path` ends with the 32-byte repomd checksum (libdnf's layout).
fn has_trailer(path: &Path, sha256: &[u8; 32]) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut tail = [0u8; 32];
    f.seek(SeekFrom::End(-32)).is_ok() && f.read_exact(&mut tail).is_ok() && &tail == sha256
}

impl Repository {
    /// Loads the rpm-md repository in `dir` (a local directory).
    ///
    /// Reads `repodata/repomd.xml`, verifies the checksum of every file it
    /// reads, and resolves through a `.solv` cache in `options.cache_dir`
    /// keyed by the repomd checksum: written atomically on the first load,
    /// rebuilt when unreadable. On error no cache file is left half-written.
    pub fn load(dir: &Path, options: &LoadOptions) -> Result<Repository, SolverError> {
        let started = Instant::now();
        let dir = local_dir(dir)?;
        let repomd = read_repomd(dir)?;
        let key = hex::encode(repomd.sha256);
        std::fs::create_dir_all(&options.cache_dir)
            .map_err(|e| SolverError::io(&options.cache_dir, e))?;
        let main_solv = options.cache_dir.join(format!("{key}.solv"));
        let has_filelists = repomd.entry("filelists").is_some();
        let ext_solv =
            has_filelists.then(|| options.cache_dir.join(format!("{key}-filenames.solvx")));
        let primary = repomd.require("primary")?;

        let mut repo = Repository {
            name: options.name.clone(),
            arch: options.arch.clone(),
            dir: dir.to_owned(),
            checksum: key,
            main_solv,
            ext_solv,
            build_group: None,
            packages: 0,
            from_cache: true,
            load_time: Duration::ZERO,
        };

        // Reading the cache back (without building the provides index) both
        // validates it and counts the packages.
        let cached = repo
            .cache_present(&repomd.sha256)
            .then(|| repo.read_cache())
            .and_then(Result::ok);
        repo.packages = match cached {
            Some(n) => n,
            None => {
                tracing::debug!(dir = %dir.display(), "building solver cache");
                repo.from_cache = false;
                repo.build_cache(&repomd, primary)?;
                repo.read_cache().map_err(|e| SolverError::Cache {
                    path: repo.main_solv.clone(),
                    message: format!("cannot reload the cache just written: {e}"),
                })?
            }
        };

        let group_entry = repomd.entry("group").or_else(|| repomd.entry("group_gz"));
        if let Some(entry) = group_entry {
            let (path, xml) = verified_content(dir, entry)?;
            repo.build_group = metadata::parse_comps_group(&xml, &options.group)
                .map_err(|message| SolverError::Parse { path, message })?;
        }
        repo.load_time = started.elapsed();
        Ok(repo)
    }

    fn cache_present(&self, sha256: &[u8; 32]) -> bool {
        has_trailer(&self.main_solv, sha256)
            && self
                .ext_solv
                .as_ref()
                .is_none_or(|p| has_trailer(p, sha256))
    }

    fn build_cache(&self, repomd: &Repomd, primary: &RepomdEntry) -> Result<(), SolverError> {
        let primary_path = verify(&self.dir, primary)?;
        let parse = |path: &Path| {
            let path = path.to_owned();
            move |message| SolverError::Parse { path, message }
        };
        let cache_err = |path: &Path| {
            let path = path.to_owned();
            move |message| SolverError::Cache { path, message }
        };
        let main_tmp = tmp_path(&self.main_solv);
        let result = (|| {
            // Main data: repomd + primary parsed from XML, written as libdnf's write_main.
            let mut pool = Pool::new(&self.arch).map_err(SolverError::Setup)?;
            {
                let mut repo = pool.add_repo(&self.name).map_err(SolverError::Setup)?;
                repo.add_repomdxml(&repomd.path)
                    .map_err(parse(&repomd.path))?;
                repo.add_rpmmd(&primary_path, None, 0)
                    .map_err(parse(&primary_path))?;
                repo.write(&main_tmp, &repomd.sha256)
                    .map_err(cache_err(&self.main_solv))?;
            }
            drop(pool);
            // Filelists: loaded as an extension of the repo read back from
            // the main .solv (libdnf switches to the written file first).
            if let (Some(entry), Some(ext_final)) = (repomd.entry("filelists"), &self.ext_solv) {
                let fl_path = verify(&self.dir, entry)?;
                let ext_tmp = tmp_path(ext_final);
                let r = (|| {
                    let mut pool = Pool::new(&self.arch).map_err(SolverError::Setup)?;
                    let mut repo = pool.add_repo(&self.name).map_err(SolverError::Setup)?;
                    repo.add_solv(&main_tmp, 0)
                        .map_err(cache_err(&self.main_solv))?;
                    repo.add_rpmmd(&fl_path, Some(c"FL"), ffi::REPO_EXTEND_SOLVABLES)
                        .map_err(parse(&fl_path))?;
                    repo.write_last_repodata(&ext_tmp, &repomd.sha256)
                        .map_err(cache_err(ext_final))?;
                    std::fs::rename(&ext_tmp, ext_final).map_err(|e| SolverError::io(ext_final, e))
                })();
                if r.is_err() {
                    let _ = std::fs::remove_file(&ext_tmp);
                }
                r?;
            }
            std::fs::rename(&main_tmp, &self.main_solv)
                .map_err(|e| SolverError::io(&self.main_solv, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&main_tmp);
        }
        result
    }

    /// Reads the cache files into a scratch pool; returns the package count.
    fn read_cache(&self) -> Result<usize, SolverError> {
        let mut pool = Pool::new(&self.arch).map_err(SolverError::Setup)?;
        self.add_to_pool(&mut pool)?;
        Ok(pool.package_count())
    }

    /// Every package of the repository as `N-E:V-R.A` (epoch always
    /// written, as in [`crate::Resolution::installs`]), in repository order.
    pub fn package_nevras(&self) -> Result<Vec<String>, SolverError> {
        let mut pool = Pool::new(&self.arch).map_err(SolverError::Setup)?;
        self.add_to_pool(&mut pool)?;
        Ok((2..pool.nsolvables())
            .filter(|&p| pool.is_package(p))
            .map(|p| {
                let (name, evr, arch) = pool.nevra_parts(p);
                crate::resolver::nevra(&name, &evr, &arch)
            })
            .collect())
    }

    /// Adds this repository (from its cache files) to `pool`.
    pub(crate) fn add_to_pool(&self, pool: &mut Pool) -> Result<(), SolverError> {
        let cache_err = |path: &Path| {
            let path = path.to_owned();
            move |message| SolverError::Cache { path, message }
        };
        let mut repo = pool.add_repo(&self.name).map_err(SolverError::Setup)?;
        repo.add_solv(&self.main_solv, 0)
            .map_err(cache_err(&self.main_solv))?;
        if let Some(ext) = &self.ext_solv {
            repo.add_solv(ext, ffi::REPO_EXTEND_SOLVABLES | ffi::REPO_LOCALPOOL)
                .map_err(cache_err(ext))?;
        }
        // What libdnf's repo_finalize_init sets for default priority and cost.
        repo.set_priority(-99, -1000);
        repo.internalize();
        repo.commit();
        Ok(())
    }

    /// The repository name used in problem texts.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The architecture resolved for.
    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// SHA-256 of `repomd.xml` (hex): the cache key.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// The build group from comps (`None` when comps or the group is missing).
    pub fn build_group(&self) -> Option<&[String]> {
        self.build_group.as_deref()
    }

    /// Number of packages in the repository.
    pub fn package_count(&self) -> usize {
        self.packages
    }

    /// Whether this load found a valid cache (no XML parsed).
    pub fn loaded_from_cache(&self) -> bool {
        self.from_cache
    }

    /// Wall time of [`Repository::load`].
    pub fn load_time(&self) -> Duration {
        self.load_time
    }
}

/// Reads the source packages of a `src` rpm-md repository (checksums
/// verified): names, EVRs and BuildRequires, in `primary` order.
pub fn read_source_packages(dir: &Path) -> Result<Vec<SourcePackage>, SolverError> {
    let dir = local_dir(dir)?;
    let repomd = read_repomd(dir)?;
    let (path, xml) = verified_content(dir, repomd.require("primary")?)?;
    metadata::parse_source_primary(&xml).map_err(|message| SolverError::Parse { path, message })
}
