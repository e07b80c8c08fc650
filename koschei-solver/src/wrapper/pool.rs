//! The libsolv pool (all strings, dependencies and packages) and its repos.

use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::c_int;
use std::path::Path;

use crate::ffi;

/// Opens `path` with libsolv's decompressing reader (`solv_xfopen`), or with
/// plain `fopen` when `plain` is set. Closed on drop.
struct CFile(*mut ffi::FILE);

impl CFile {
    fn open(path: &Path, mode: &CStr, decompress: bool) -> Result<CFile, String> {
        let c = path_cstring(path)?;
        // SAFETY: both arguments are valid NUL-terminated strings that live
        // across the call; a null return is handled below.
        let fp = unsafe {
            if decompress {
                ffi::solv_xfopen(c.as_ptr(), mode.as_ptr())
            } else {
                libc::fopen(c.as_ptr(), mode.as_ptr()).cast::<ffi::FILE>()
            }
        };
        if fp.is_null() {
            return Err(format!("cannot open: {}", std::io::Error::last_os_error()));
        }
        Ok(CFile(fp))
    }

    /// Flushes and closes, reporting write errors.
    fn close(mut self) -> Result<(), String> {
        let fp = std::mem::replace(&mut self.0, std::ptr::null_mut());
        // SAFETY: `fp` is an open stream owned by this value; it is closed once
        // (the null left behind makes `Drop` skip it).
        let rc = unsafe { libc::fclose(fp.cast::<libc::FILE>()) };
        if rc != 0 {
            return Err(format!("close failed: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for CFile {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the stream is open and owned by this value.
            unsafe { libc::fclose(self.0.cast::<libc::FILE>()) };
        }
    }
}

fn path_cstring(path: &Path) -> Result<CString, String> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| "path contains a NUL byte".to_owned())
}

/// A libsolv pool set up with RPM semantics for one architecture.
pub(crate) struct Pool {
    raw: *mut ffi::Pool,
    /// The `considered` map installed in the pool, owned here (libsolv
    /// only borrows it, as libdnf's sack does).
    considered: Option<Box<ffi::Map>>,
}

impl Pool {
    /// Creates a pool with RPM version semantics and the arch policy of `arch`
    /// (the settings libdnf uses: see spec/solver-facts.md, section 1).
    pub(crate) fn new(arch: &str) -> Result<Pool, String> {
        let arch = CString::new(arch).map_err(|_| "arch contains a NUL byte".to_owned())?;
        // SAFETY: pool_create returns a fresh pool (it aborts on OOM).
        let raw = unsafe { ffi::pool_create() };
        let pool = Pool {
            raw,
            considered: None,
        };
        // SAFETY: `raw` is a valid pool. The disttype must be set before the
        // arch (it decides the noarch id); -1 means the library lacks RPM support.
        unsafe {
            if ffi::pool_setdisttype(raw, ffi::DISTTYPE_RPM as c_int) == -1 {
                return Err("the system libsolv has no RPM support".to_owned());
            }
            ffi::pool_set_flag(raw, ffi::POOL_FLAG_WHATPROVIDESWITHDISABLED as c_int, 1);
            // hawkey's pool has this flag on (libsolv built for Fedora turns it on by
            // default): packages of one name but another arch color (i686 and x86_64) may
            // be installed together, and an inferior-arch package needs the best-arch
            // build of the same version (libsolv's lock-step infarch rule).
            ffi::pool_set_flag(raw, ffi::POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS as c_int, 1);
            ffi::pool_setarch(raw, arch.as_ptr());
        }
        Ok(pool)
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::Pool {
        self.raw
    }

    /// Creates an empty repository that is freed again unless committed.
    pub(crate) fn add_repo(&mut self, name: &str) -> Result<Repo<'_>, String> {
        let c = CString::new(name).map_err(|_| "repo name contains a NUL byte".to_owned())?;
        // SAFETY: the pool is valid; libsolv copies the name into its string pool.
        let raw = unsafe { ffi::repo_create(self.raw, c.as_ptr()) };
        Ok(Repo {
            raw,
            _pool: PhantomData,
        })
    }

    /// Adds file provides and builds the provides index (`dnf_sack_make_provides_ready`).
    pub(crate) fn make_provides_ready(&mut self) {
        // SAFETY: the pool is valid; null queues are allowed by both functions.
        unsafe {
            ffi::pool_addfileprovides_queue(self.raw, std::ptr::null_mut(), std::ptr::null_mut());
            ffi::pool_createwhatprovides(self.raw);
        }
    }

    /// Interns a string.
    pub(crate) fn str2id(&self, s: &str) -> ffi::Id {
        // SAFETY: the pool is valid; pool_strn2id reads exactly `len` bytes.
        unsafe {
            ffi::pool_strn2id(
                self.raw,
                s.as_ptr().cast(),
                s.len() as std::os::raw::c_uint,
                1,
            )
        }
    }

    /// Interns a relation `name flags evr`.
    pub(crate) fn rel2id(&self, name: ffi::Id, evr: ffi::Id, flags: u32) -> ffi::Id {
        // SAFETY: the pool is valid and both ids belong to it.
        unsafe { ffi::pool_rel2id(self.raw, name, evr, flags as c_int, 1) }
    }

    /// Parses an rpm rich dependency; `None` when libsolv rejects it.
    pub(crate) fn parse_rich_dep(&self, dep: &str) -> Option<ffi::Id> {
        let c = CString::new(dep).ok()?;
        // SAFETY: the pool is valid and `c` is NUL-terminated.
        let id = unsafe { ffi::pool_parserpmrichdep(self.raw, c.as_ptr()) };
        (id != 0).then_some(id)
    }

    /// The solvables providing `dep` (requires `make_provides_ready`).
    pub(crate) fn whatprovides(&self, dep: ffi::Id) -> Vec<ffi::Id> {
        let mut out = Vec::new();
        // SAFETY: the provides index exists (callers only query ready pools)
        // and the returned offset points at a zero-terminated id list.
        unsafe {
            let off = ffi::pool_whatprovides(self.raw, dep);
            let mut p = (*self.raw).whatprovidesdata.add(off as usize);
            while *p != 0 {
                out.push(*p);
                p = p.add(1);
            }
        }
        out
    }

    /// Solvables whose file list contains `path` (a libsolv selection), as
    /// job pairs ready to be or-ed with a job command.
    pub(crate) fn select_file(&self, path: &str, sel: &mut super::Queue) {
        sel.clear();
        let Ok(c) = CString::new(path) else { return };
        // SAFETY: the pool is valid, the queue is initialised, `c` outlives the call.
        unsafe {
            ffi::selection_make(
                self.raw,
                sel.as_mut_ptr(),
                c.as_ptr(),
                ffi::SELECTION_FILELIST as c_int,
            );
        }
    }

    /// Number of solvable slots (ids run from 2 to this exclusive).
    pub(crate) fn nsolvables(&self) -> ffi::Id {
        // SAFETY: reading a public field of a valid pool.
        unsafe { (*self.raw).nsolvables }
    }

    fn solvable(&self, p: ffi::Id) -> *mut ffi::Solvable {
        debug_assert!(p > 0 && p < self.nsolvables());
        // SAFETY: `p` is a solvable id of this pool (checked by callers).
        unsafe { (*self.raw).solvables.add(p as usize) }
    }

    /// Whether slot `p` holds a package of a repository.
    pub(crate) fn is_package(&self, p: ffi::Id) -> bool {
        // SAFETY: `p` is in range; `repo` is null for free slots and the
        // two system solvables.
        p >= 2 && p < self.nsolvables() && unsafe { !(*self.solvable(p)).repo.is_null() }
    }

    /// Name, EVR and arch strings of solvable `p`.
    pub(crate) fn nevra_parts(&self, p: ffi::Id) -> (String, String, String) {
        // SAFETY: `p` is a valid solvable; the id strings live in the pool.
        unsafe {
            let s = self.solvable(p);
            (
                self.id2str((*s).name),
                self.id2str((*s).evr),
                self.id2str((*s).arch),
            )
        }
    }

    /// The name id of solvable `p`.
    pub(crate) fn solvable_name(&self, p: ffi::Id) -> ffi::Id {
        // SAFETY: `p` is a valid solvable.
        unsafe { (*self.solvable(p)).name }
    }

    /// `pool_solvid2str`: `name-evr.arch` (no epoch when it is 0).
    pub(crate) fn solvid2str(&self, p: ffi::Id) -> String {
        // SAFETY: `p` is valid; the result is a pool temp string copied at once.
        unsafe { cstr_to_string(ffi::pool_solvable2str(self.raw, self.solvable(p))) }
    }

    /// `pool_disabled_solvable`: in a disabled repository or not considered.
    pub(crate) fn is_disabled(&self, p: ffi::Id) -> bool {
        // SAFETY: `p` is valid; a non-null repo pointer is a live repo; the
        // considered map, when set, holds `nsolvables` bits.
        unsafe {
            let repo = (*self.solvable(p)).repo;
            if !repo.is_null() && (*repo).disabled != 0 {
                return true;
            }
            let considered = (*self.raw).considered;
            !considered.is_null()
                && (*(*considered).map.add((p >> 3) as usize) & (1 << (p & 7))) == 0
        }
    }

    /// Whether solvable `p` has an arch the pool cannot install (libdnf's test).
    pub(crate) fn has_incompatible_arch(&self, p: ffi::Id) -> bool {
        // SAFETY: `p` is valid; `id2arch` has `lastarch + 1` entries when non-null.
        unsafe {
            let arch = (*self.solvable(p)).arch;
            let pool = &*self.raw;
            arch != 0
                && arch != ffi::solv_knownid_ARCH_SRC as ffi::Id
                && arch != ffi::solv_knownid_ARCH_NOSRC as ffi::Id
                && !pool.id2arch.is_null()
                && (arch > pool.lastarch || *pool.id2arch.add(arch as usize) == 0)
        }
    }

    /// `pool_dep2str`.
    pub(crate) fn dep2str(&self, dep: ffi::Id) -> String {
        // SAFETY: `dep` is an id of this pool; the temp string is copied at once.
        unsafe { cstr_to_string(ffi::pool_dep2str(self.raw, dep)) }
    }

    /// `pool_id2str`.
    pub(crate) fn id2str(&self, id: ffi::Id) -> String {
        // SAFETY: `id` is a string id of this pool.
        unsafe { cstr_to_string(ffi::pool_id2str(self.raw, id)) }
    }

    /// The `requires` of solvable `p`, pre-requires included (what hawkey's
    /// `Package.requires` returns), without libsolv's prereq marker.
    pub(crate) fn requires(&self, p: ffi::Id, out: &mut super::Queue) {
        out.clear();
        // SAFETY: `p` is valid and `out` is initialised; marker 0 returns the
        // whole array (the marker id is dropped below).
        unsafe {
            ffi::solvable_lookup_deparray(
                self.solvable(p),
                ffi::solv_knownid_SOLVABLE_REQUIRES as ffi::Id,
                out.as_mut_ptr(),
                0,
            );
        }
        let marker = ffi::solv_knownid_SOLVABLE_PREREQMARKER as ffi::Id;
        if out.as_slice().contains(&marker) {
            let kept: Vec<ffi::Id> = out
                .as_slice()
                .iter()
                .copied()
                .filter(|&d| d != marker)
                .collect();
            out.clear();
            for d in kept {
                out.push(d);
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: the pool is valid and every wrapper borrowing it is gone
        // (lifetimes); pool_free also frees the committed repositories. The
        // considered map is detached first and freed by us (pool_free does not).
        unsafe {
            (*self.raw).considered = std::ptr::null_mut();
            ffi::pool_free(self.raw);
        }
        if let Some(mut map) = self.considered.take() {
            // SAFETY: the map was set up by map_init and nothing refers to it now.
            unsafe { ffi::map_free(&mut *map) };
        }
    }
}

impl Pool {
    /// Excludes every package whose EVR is lower than the highest EVR of a
    /// package with the same name (Koschei's `copr.overriding_by_exclusions`),
    /// through the pool's `considered` map. Returns how many were excluded.
    /// Call before `make_provides_ready`.
    pub(crate) fn exclude_all_but_highest_evr(&mut self) -> usize {
        let n = self.nsolvables();
        let mut best: std::collections::HashMap<ffi::Id, ffi::Id> =
            std::collections::HashMap::new();
        let evr_of = |p: ffi::Id| {
            // SAFETY: `p` is a package id of this pool.
            unsafe { (*self.solvable(p)).evr }
        };
        for p in (2..n).filter(|&p| self.is_package(p)) {
            let (name, evr) = (self.solvable_name(p), evr_of(p));
            best.entry(name)
                .and_modify(|b| {
                    // SAFETY: both are EVR ids of this pool.
                    if unsafe { ffi::pool_evrcmp(self.raw, evr, *b, 0) } > 0 {
                        *b = evr;
                    }
                })
                .or_insert(evr);
        }
        let mut map = Box::new(ffi::Map {
            map: std::ptr::null_mut(),
            size: 0,
        });
        // SAFETY: map_init allocates a zeroed bitmap for `n` bits.
        unsafe { ffi::map_init(&mut *map, n) };
        let mut excluded = 0;
        for p in 0..n {
            let keep = !self.is_package(p) || {
                // SAFETY: evr ids of this pool.
                unsafe {
                    ffi::pool_evrcmp(self.raw, evr_of(p), best[&self.solvable_name(p)], 0) == 0
                }
            };
            if keep {
                // SAFETY: `p < n` and the bitmap holds `n` bits (MAPSET).
                unsafe { *map.map.add((p >> 3) as usize) |= 1 << (p & 7) };
            } else {
                excluded += 1;
            }
        }
        // SAFETY: the boxed map lives as long as the pool (freed in Drop after
        // being detached), so the pointer stays valid.
        unsafe { (*self.raw).considered = &mut *map };
        if let Some(mut old) = self.considered.replace(map) {
            // SAFETY: the old map is no longer referenced by the pool.
            unsafe { ffi::map_free(&mut *old) };
        }
        excluded
    }
}

/// A repository being loaded; freed on drop unless [`Repo::commit`]ted.
pub(crate) struct Repo<'p> {
    raw: *mut ffi::Repo,
    _pool: PhantomData<&'p mut Pool>,
}

impl Repo<'_> {
    fn pool(&self) -> *mut ffi::Pool {
        // SAFETY: the repo is valid and points back to its pool.
        unsafe { (*self.raw).pool }
    }

    fn errstr(&self) -> String {
        // SAFETY: see `Pool::errstr`.
        unsafe { cstr_to_string(ffi::pool_errstr(self.pool())) }
    }

    /// `repo_add_repomdxml` on a plain file.
    pub(crate) fn add_repomdxml(&mut self, path: &Path) -> Result<(), String> {
        let fp = CFile::open(path, c"r", false)?;
        // SAFETY: repo and stream are valid for the call.
        let rc = unsafe { ffi::repo_add_repomdxml(self.raw, fp.0, 0) };
        if rc != 0 {
            return Err(self.errstr());
        }
        Ok(())
    }

    /// `repo_add_rpmmd` on a (possibly compressed) primary or filelists file.
    pub(crate) fn add_rpmmd(
        &mut self,
        path: &Path,
        lang: Option<&CStr>,
        flags: u32,
    ) -> Result<(), String> {
        let fp = CFile::open(path, c"r", true)?;
        let lang = lang.map_or(std::ptr::null(), CStr::as_ptr);
        // SAFETY: repo, stream and language string are valid for the call.
        let rc = unsafe { ffi::repo_add_rpmmd(self.raw, fp.0, lang, flags as c_int) };
        if rc != 0 {
            return Err(self.errstr());
        }
        Ok(())
    }

    /// `repo_add_solv` from a `.solv` file.
    pub(crate) fn add_solv(&mut self, path: &Path, flags: u32) -> Result<(), String> {
        let fp = CFile::open(path, c"r", false)?;
        // SAFETY: repo and stream are valid for the call.
        let rc = unsafe { ffi::repo_add_solv(self.raw, fp.0, flags as c_int) };
        if rc != 0 {
            return Err(self.errstr());
        }
        Ok(())
    }

    /// `repo_write`: the whole repository as a `.solv` file, plus `trailer`.
    pub(crate) fn write(&mut self, path: &Path, trailer: &[u8]) -> Result<(), String> {
        let fp = CFile::open(path, c"w", false)?;
        // SAFETY: repo and stream are valid for the call.
        let rc = unsafe { ffi::repo_write(self.raw, fp.0) };
        if rc != 0 {
            return Err(self.errstr());
        }
        write_trailer(&fp, trailer)?;
        fp.close()
    }

    /// `repodata_write` of the last repodata (an extension such as filelists).
    pub(crate) fn write_last_repodata(
        &mut self,
        path: &Path,
        trailer: &[u8],
    ) -> Result<(), String> {
        // SAFETY: the repo is valid; the result is checked for null.
        let data = unsafe { ffi::repo_last_repodata(self.raw) };
        if data.is_null() {
            return Err("repository has no extension data".to_owned());
        }
        let fp = CFile::open(path, c"w", false)?;
        // SAFETY: data and stream are valid for the call.
        let rc = unsafe { ffi::repodata_write(data, fp.0) };
        if rc != 0 {
            return Err(self.errstr());
        }
        write_trailer(&fp, trailer)?;
        fp.close()
    }

    /// Sets priority and subpriority (libdnf: -99 and -1000).
    pub(crate) fn set_priority(&mut self, priority: i32, subpriority: i32) {
        // SAFETY: writing public fields of a valid repo.
        unsafe {
            (*self.raw).priority = priority;
            (*self.raw).subpriority = subpriority;
        }
    }

    /// `repo_internalize`.
    pub(crate) fn internalize(&mut self) {
        // SAFETY: the repo is valid.
        unsafe { ffi::repo_internalize(self.raw) };
    }

    /// Hands the repository to its pool, which frees it with itself.
    pub(crate) fn commit(mut self) {
        self.raw = std::ptr::null_mut();
    }
}

impl Drop for Repo<'_> {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: an uncommitted repo is owned by this value; freeing it
            // (reusing ids) removes every trace of a failed load from the pool.
            unsafe { ffi::repo_free(self.raw, 1) };
        }
    }
}

fn write_trailer(fp: &CFile, trailer: &[u8]) -> Result<(), String> {
    if trailer.is_empty() {
        return Ok(());
    }
    // SAFETY: the stream is open for writing; `trailer` is a valid buffer.
    let n = unsafe {
        libc::fwrite(
            trailer.as_ptr().cast(),
            1,
            trailer.len(),
            fp.0.cast::<libc::FILE>(),
        )
    };
    if n != trailer.len() {
        return Err(format!("write failed: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Copies a C string (null gives an empty string).
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string.
pub(super) unsafe fn cstr_to_string(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Reads a whole file through libsolv's decompressing reader (gzip, xz,
/// zstd, bzip2 by suffix; anything else as plain bytes).
pub(crate) fn read_decompressed(path: &Path) -> Result<Vec<u8>, String> {
    let fp = CFile::open(path, c"r", true)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: the stream is open for reading and `buf` has room for `len` bytes.
        let n = unsafe {
            libc::fread(
                buf.as_mut_ptr().cast(),
                1,
                buf.len(),
                fp.0.cast::<libc::FILE>(),
            )
        };
        out.extend_from_slice(&buf[..n]);
        if n < buf.len() {
            // SAFETY: as above; ferror only inspects the stream.
            if unsafe { libc::ferror(fp.0.cast::<libc::FILE>()) } != 0 {
                return Err("read or decompression failed".to_owned());
            }
            break;
        }
    }
    Ok(out)
}

impl Pool {
    /// Number of packages (solvables in repositories).
    pub(crate) fn package_count(&self) -> usize {
        (2..self.nsolvables())
            .filter(|&p| self.is_package(p))
            .count()
    }
}

/// Which dependency array of a solvable to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    Provides,
    Requires,
    Conflicts,
    Obsoletes,
    Recommends,
    Suggests,
    Supplements,
    Enhances,
}

impl DepKind {
    /// Every dependency array a solve reads (suggests and enhances too:
    /// libsolv's policy prefers suggested and enhancing candidates).
    pub(crate) const ALL: [DepKind; 8] = [
        DepKind::Provides,
        DepKind::Requires,
        DepKind::Conflicts,
        DepKind::Obsoletes,
        DepKind::Recommends,
        DepKind::Suggests,
        DepKind::Supplements,
        DepKind::Enhances,
    ];

    fn key(self) -> ffi::Id {
        (match self {
            DepKind::Provides => ffi::solv_knownid_SOLVABLE_PROVIDES,
            DepKind::Requires => ffi::solv_knownid_SOLVABLE_REQUIRES,
            DepKind::Conflicts => ffi::solv_knownid_SOLVABLE_CONFLICTS,
            DepKind::Obsoletes => ffi::solv_knownid_SOLVABLE_OBSOLETES,
            DepKind::Recommends => ffi::solv_knownid_SOLVABLE_RECOMMENDS,
            DepKind::Suggests => ffi::solv_knownid_SOLVABLE_SUGGESTS,
            DepKind::Supplements => ffi::solv_knownid_SOLVABLE_SUPPLEMENTS,
            DepKind::Enhances => ffi::solv_knownid_SOLVABLE_ENHANCES,
        }) as ffi::Id
    }
}

/// A relation `name flags evr` (for rich dependencies both sides are
/// dependencies themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rel {
    pub(crate) name: ffi::Id,
    pub(crate) evr: ffi::Id,
    pub(crate) flags: u32,
}

impl Pool {
    /// The dependency array `kind` of solvable `p`, exactly as stored
    /// (pre-require markers included, so two arrays compare equal only when
    /// libsolv sees the same thing).
    pub(crate) fn deps(&self, p: ffi::Id, kind: DepKind, out: &mut super::Queue) {
        out.clear();
        // SAFETY: `p` is a valid solvable, `out` is initialised; marker 0
        // returns the whole array.
        unsafe {
            ffi::solvable_lookup_deparray(self.solvable(p), kind.key(), out.as_mut_ptr(), 0);
        }
    }

    /// Name, EVR and arch ids of solvable `p`.
    pub(crate) fn solvable_ids(&self, p: ffi::Id) -> (ffi::Id, ffi::Id, ffi::Id) {
        // SAFETY: `p` is a valid solvable.
        unsafe {
            let s = self.solvable(p);
            ((*s).name, (*s).evr, (*s).arch)
        }
    }

    /// libsolv's score of solvable `p`'s arch under the pool's arch policy
    /// (`pool->id2arch`, what its infarch rules read): 1 for noarch, 0 for an
    /// arch the policy does not install (and `src`); otherwise the high 16
    /// bits are the arch's class, lower is better (on x86_64, x86_64, i686,
    /// i586, ... are each a class of their own).
    pub(crate) fn arch_score(&self, p: ffi::Id) -> u32 {
        // SAFETY: `p` is a valid solvable; `id2arch`, when set, holds
        // `lastarch + 1` entries (pool_setarch allocates it so).
        unsafe {
            let arch = (*self.solvable(p)).arch;
            let pool = &*self.raw;
            if pool.id2arch.is_null() || arch <= 0 || arch > pool.lastarch {
                0
            } else {
                *pool.id2arch.add(arch as usize) as u32
            }
        }
    }

    /// The packages of `p`'s name (other than `p`) with their arch scores.
    fn name_mates(&self, p: ffi::Id) -> Vec<(ffi::Id, u32)> {
        let name = self.solvable_name(p);
        self.whatprovides(name)
            .into_iter()
            .filter(|&q| q != p && self.solvable_name(q) == name)
            .map(|q| (q, self.arch_score(q)))
            .collect()
    }

    /// The packages libsolv's multilib lock-step rules tie `p` to (with
    /// POOL_FLAG_IMPLICITOBSOLETEUSESCOLORS, libdnf's setting): the same name
    /// and EVR, another arch, and noarch or a better arch than `p`'s. When `p`
    /// is in a solve, libsolv adds the better-arch ones to it, and an
    /// inferior-arch `p` may only be installed together with one of them.
    /// Sorted by id; empty for noarch and uninstallable arches.
    pub(crate) fn lock_step_relatives(&self, p: ffi::Id) -> Vec<ffi::Id> {
        let a = self.arch_score(p);
        if a <= 1 {
            return Vec::new();
        }
        let (_, evr, arch) = self.solvable_ids(p);
        let mut out: Vec<ffi::Id> = self
            .name_mates(p)
            .into_iter()
            .filter(|&(q, b)| {
                let (_, qevr, qarch) = self.solvable_ids(q);
                qevr == evr && qarch != arch && (b == 1 || (b != 0 && b < a))
            })
            .map(|(q, _)| q)
            .collect();
        out.sort_unstable();
        out
    }

    /// Whether a package of an inferior arch class has no build of the same
    /// version in its name's best arch class (an i686 package whose x86_64
    /// build has another version). Only then can a reused solver answer
    /// differently from a fresh one: libsolv's infarch rules look at every
    /// package earlier solves added rules for, and the lock-step rule adds a
    /// package's best-arch build of the same version to its solve, so without
    /// such a gap every solve sees the same best arch for a name as a fresh
    /// solver would.
    pub(crate) fn has_lock_step_gap(&self) -> bool {
        const CLASS: u32 = 0xffff_0000;
        // The best class the policy has (the pool's own arch): its packages
        // are never inferior, which settles every package of a pool without
        // multilib at once.
        // SAFETY: `id2arch`, when set, holds `lastarch + 1` entries.
        let top = unsafe {
            let pool = &*self.raw;
            if pool.id2arch.is_null() {
                return false;
            }
            (0..=pool.lastarch.max(0) as usize)
                .map(|i| *pool.id2arch.add(i) as u32)
                .filter(|&a| a > 1)
                .min()
                .unwrap_or(0)
        };
        (2..self.nsolvables()).any(|p| {
            if !self.is_package(p) {
                return false;
            }
            let a = self.arch_score(p);
            if a <= 1 || a & CLASS == top & CLASS {
                return false;
            }
            let mates = self.name_mates(p);
            let best = mates
                .iter()
                .map(|&(_, b)| b)
                .filter(|&b| b > 1)
                .fold(a, u32::min);
            if a & CLASS == best & CLASS {
                return false;
            }
            let evr = self.solvable_ids(p).1;
            !mates
                .iter()
                .any(|&(q, b)| b > 1 && b & CLASS == best & CLASS && self.solvable_ids(q).1 == evr)
        })
    }

    /// Compares two EVR ids of this pool as rpm does (<0, 0, >0).
    pub(crate) fn evr_cmp(&self, a: ffi::Id, b: ffi::Id) -> std::cmp::Ordering {
        // SAFETY: the pool is valid and both are EVR ids of it.
        let c = unsafe { ffi::pool_evrcmp(self.raw, a, b, 0) };
        c.cmp(&0)
    }

    /// The parts of relation id `id`; `None` for a plain string id.
    pub(crate) fn rel(&self, id: ffi::Id) -> Option<Rel> {
        if !ffi::is_reldep(id) {
            return None;
        }
        let index = ((id as u32) ^ 0x8000_0000) as usize;
        // SAFETY: relation ids handed out by this pool index `rels`, which
        // holds `nrels` entries.
        unsafe {
            let pool = &*self.raw;
            if index >= pool.nrels as usize {
                return None;
            }
            let r = &*pool.rels.add(index);
            Some(Rel {
                name: r.name,
                evr: r.evr,
                flags: r.flags as u32,
            })
        }
    }

    /// The bytes of string id `id` without copying (empty for an unknown id).
    pub(crate) fn id_bytes(&self, id: ffi::Id) -> &[u8] {
        // SAFETY: `id` is a string id of this pool; the string lives in the
        // pool's string space for as long as the pool (strings are never
        // removed) and `&self` keeps the pool alive; a null is mapped to "".
        unsafe {
            let p = ffi::pool_id2str(self.raw, id);
            if p.is_null() {
                return &[];
            }
            CStr::from_ptr(p).to_bytes()
        }
    }

    /// The solvables of a job selection pair (`SOLVER_SOLVABLE` or
    /// `SOLVER_SOLVABLE_ONE_OF`); other selection kinds give nothing.
    pub(crate) fn selection_solvables(&self, how: ffi::Id, what: ffi::Id) -> Vec<ffi::Id> {
        match how as u32 & ffi::SOLVER_SELECTMASK {
            ffi::SOLVER_SOLVABLE => vec![what],
            ffi::SOLVER_SOLVABLE_ONE_OF => {
                let mut out = Vec::new();
                // SAFETY: for ONE_OF, `what` is an offset into
                // `whatprovidesdata` of a zero-terminated id list.
                unsafe {
                    let mut p = (*self.raw).whatprovidesdata.add(what as usize);
                    while *p != 0 {
                        out.push(*p);
                        p = p.add(1);
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }
}
