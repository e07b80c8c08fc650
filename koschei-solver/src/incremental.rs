//! Incremental re-resolution: which packages a repository delta can affect.
//!
//! Given the old and the new repository state, loaded in two pools, and a
//! package's previous answer against the old state, [`Delta::affected`]
//! says whether solving it again against the new state could give a
//! different answer. Packages it clears keep their previous answer; all
//! others are solved again. docs/incremental.md explains the rule and why it
//! is sound; in short a previously resolved package must be solved again when
//!
//! 1. a package of its old install set is not in the new state with the
//!    same content (name, EVR, arch and every dependency array libsolv
//!    reads) and in the same relative order (package ids order rules);
//! 2. a package of its old install set is *tainted*: its dependency closure
//!    over requires (and recommends, unless weak deps are ignored), through
//!    every alternative provider, reaches a new or changed package, or a
//!    dependency (required, recommended, conflicting, obsoleted,
//!    supplemented or enhanced) whose set of providers changed, or whose
//!    providers' names now sort differently (libsolv breaks ties between
//!    names by their string ids, which a `.solv` file renumbers), or whose
//!    lock-step relatives (the same-version builds of its name in a better
//!    arch or noarch, which libsolv's multilib rules tie it to) changed;
//! 3. one of its job entries (build group names and BuildRequires) matches
//!    other packages than before, in another order, or a tainted one;
//! 4. a new or tainted package supplements or enhances a package of its
//!    install set, or a new package conflicts with or obsoletes one;
//! 5. it was unresolved before, has no previous answer, or the build group
//!    itself changed.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;
use std::time::{Duration, Instant};

use crate::batch::{BatchStats, Resolved, run_batch_carrying};
use crate::error::SolverError;
use crate::ffi;
use crate::repository::Repository;
use crate::resolver::{Resolution, ResolveOptions, Resolver, nevra};
use crate::wrapper::{DepKind, Pool, Queue};

/// Why a package has to be solved again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Affected {
    /// The previous run has no answer for it (new package, new version).
    NoPreviousAnswer,
    /// It was unresolved before: problems are always computed afresh.
    PreviouslyUnresolved,
    /// The build group's package list changed.
    BuildGroupChanged,
    /// A package of its old install set was removed, changed or reordered.
    InstalledPackageChanged {
        /// The package, `N-E:V-R.A`.
        nevra: String,
    },
    /// A package of its old install set depends, through some alternative,
    /// on something that changed.
    InstalledPackageTainted {
        /// The package, `N-E:V-R.A`.
        nevra: String,
    },
    /// A build group name or BuildRequire matches other packages now.
    JobChanged {
        /// The dependency as given.
        dep: String,
    },
}

impl Affected {
    /// A short name of the reason, for counts in summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            Affected::NoPreviousAnswer => "no-previous-answer",
            Affected::PreviouslyUnresolved => "previously-unresolved",
            Affected::BuildGroupChanged => "build-group-changed",
            Affected::InstalledPackageChanged { .. } => "installed-package-changed",
            Affected::InstalledPackageTainted { .. } => "installed-package-tainted",
            Affected::JobChanged { .. } => "job-changed",
        }
    }
}

impl std::fmt::Display for Affected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Affected::NoPreviousAnswer => f.write_str("no previous answer"),
            Affected::PreviouslyUnresolved => f.write_str("unresolved before"),
            Affected::BuildGroupChanged => f.write_str("the build group changed"),
            Affected::InstalledPackageChanged { nevra } => {
                write!(f, "installed package `{nevra}` changed")
            }
            Affected::InstalledPackageTainted { nevra } => {
                write!(f, "installed package `{nevra}` depends on a change")
            }
            Affected::JobChanged { dep } => write!(f, "`{dep}` matches other packages"),
        }
    }
}

/// Figures of one delta analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeltaStats {
    /// Packages in the old state.
    pub old_packages: usize,
    /// Packages in the new state.
    pub new_packages: usize,
    /// Packages in both states with the same NEVRA and content.
    pub identical: usize,
    /// New packages paired with the old package of the same name and arch
    /// (a rebuild or update).
    pub successors: usize,
    /// Old packages without a counterpart.
    pub removed: usize,
    /// New packages without a counterpart.
    pub added: usize,
    /// Pairs dropped because their relative order differs between the pools.
    pub reordered: usize,
    /// Pairs of corresponding dependencies whose candidates do not
    /// correspond (other packages, order, names or EVR order).
    pub changed_deps: usize,
    /// New-state packages that are unpaired or whose dependency closure
    /// reaches a difference.
    pub tainted: usize,
    /// Time the analysis took.
    #[serde(skip)]
    pub time: Duration,
}

/// The comparison of two repository states, built once and asked once per
/// package (see the module docs for the rule).
pub struct Delta {
    /// Old-state id of each package by `N-E:V-R.A` (unique ones only).
    old_ids: HashMap<String, ffi::Id>,
    /// Old id -> new id of paired packages (0: none).
    old_to_new: Vec<ffi::Id>,
    /// By new id: unpaired, or the closure reaches a difference.
    tainted: Vec<bool>,
    /// By new id: paired with an old package of the same NEVRA and content.
    identical: Vec<bool>,
    group_changed: bool,
    job_memo: HashMap<String, bool>,
    stats: DeltaStats,
}

impl std::fmt::Debug for Delta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delta")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

const RICH_OPS: [u32; 7] = [
    ffi::REL_AND,
    ffi::REL_OR,
    ffi::REL_WITH,
    ffi::REL_WITHOUT,
    ffi::REL_COND,
    ffi::REL_UNLESS,
    ffi::REL_ELSE,
];

/// The simple dependencies a (possibly rich) dependency is made of.
fn leaves(pool: &Pool, dep: ffi::Id, out: &mut Vec<ffi::Id>) {
    match pool.rel(dep) {
        Some(r) if RICH_OPS.contains(&r.flags) => {
            leaves(pool, r.name, out);
            leaves(pool, r.evr, out);
        }
        _ => out.push(dep),
    }
}

/// The structure of a (possibly rich) dependency: its operators in order,
/// with `u32::MAX` for each simple dependency (those go to `leaves`).
fn shape(pool: &Pool, dep: ffi::Id, ops: &mut Vec<u32>, leaves: &mut Vec<ffi::Id>) {
    match pool.rel(dep) {
        Some(r) if RICH_OPS.contains(&r.flags) => {
            ops.push(r.flags);
            shape(pool, r.name, ops, leaves);
            shape(pool, r.evr, ops, leaves);
        }
        _ => {
            ops.push(u32::MAX);
            leaves.push(dep);
        }
    }
}

/// The name a simple dependency is about (`name` of `name OP EVR`).
fn dep_name(pool: &Pool, dep: ffi::Id) -> ffi::Id {
    match pool.rel(dep) {
        Some(r) if !RICH_OPS.contains(&r.flags) => dep_name(pool, r.name),
        _ => dep,
    }
}

/// Hashes a dependency by its structure and strings (pool independent).
fn hash_dep(pool: &Pool, dep: ffi::Id, h: &mut DefaultHasher) {
    match pool.rel(dep) {
        Some(r) => {
            h.write_u8(1);
            hash_dep(pool, r.name, h);
            h.write_u32(r.flags);
            hash_dep(pool, r.evr, h);
        }
        None => {
            h.write_u8(0);
            h.write(pool.id_bytes(dep));
            h.write_u8(0xff);
        }
    }
}

/// Everything about one package that a solve can see, as a hash.
fn content_hash(pool: &Pool, p: ffi::Id, q: &mut Queue) -> u64 {
    let mut h = DefaultHasher::new();
    let (_, evr, arch) = pool.solvable_ids(p);
    h.write(pool.id_bytes(evr));
    h.write_u8(0);
    h.write(pool.id_bytes(arch));
    h.write_u8(u8::from(pool.is_disabled(p)));
    for (i, kind) in DepKind::ALL.iter().enumerate() {
        pool.deps(p, *kind, q);
        h.write_u8(0xf0 | i as u8);
        h.write_usize(q.as_slice().len());
        for &d in q.as_slice() {
            hash_dep(pool, d, &mut h);
        }
    }
    h.finish()
}

/// `N-E:V-R.A` of a package.
fn nevra_of(pool: &Pool, p: ffi::Id) -> String {
    let (name, evr, arch) = pool.nevra_parts(p);
    nevra(&name, &evr, &arch)
}

/// Indices (into `seq`) of one longest strictly increasing subsequence.
fn longest_increasing(seq: &[ffi::Id]) -> Vec<usize> {
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; seq.len()];
    for (i, &v) in seq.iter().enumerate() {
        let pos = tails.partition_point(|&t| seq[t] < v);
        if pos > 0 {
            prev[i] = tails[pos - 1];
        }
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut cur = tails.last().copied().unwrap_or(usize::MAX);
    while cur != usize::MAX {
        out.push(cur);
        cur = prev[cur];
    }
    out.reverse();
    out
}

/// One package of a pool as the pairing sees it.
struct Entry {
    id: ffi::Id,
    nevra: String,
    /// Name and arch, the key of successor pairs.
    name_arch: (Vec<u8>, Vec<u8>),
    disabled: bool,
    hash: u64,
}

fn entries(pool: &Pool) -> Vec<Entry> {
    let mut q = Queue::new();
    (2..pool.nsolvables())
        .filter(|&p| pool.is_package(p))
        .map(|p| {
            let (name, _, arch) = pool.solvable_ids(p);
            Entry {
                id: p,
                nevra: nevra_of(pool, p),
                name_arch: (pool.id_bytes(name).to_vec(), pool.id_bytes(arch).to_vec()),
                disabled: pool.is_disabled(p),
                hash: content_hash(pool, p, &mut q),
            }
        })
        .collect()
}

/// Values that occur exactly once.
fn unique_keys<'e, K: std::hash::Hash + Eq>(
    items: impl Iterator<Item = (K, &'e Entry)>,
) -> HashMap<K, &'e Entry> {
    let mut seen: HashMap<K, Option<&Entry>> = HashMap::new();
    for (k, e) in items {
        seen.entry(k).and_modify(|v| *v = None).or_insert(Some(e));
    }
    seen.into_iter()
        .filter_map(|(k, v)| v.map(|e| (k, e)))
        .collect()
}

/// The correspondence between the two pools: old id <-> new id.
struct Pairing<'p> {
    old: &'p Pool,
    new: &'p Pool,
    old_to_new: Vec<ffi::Id>,
}

impl Pairing<'_> {
    fn image(&self, o: ffi::Id) -> ffi::Id {
        self.old_to_new.get(o as usize).copied().unwrap_or(0)
    }

    /// Whether the candidates `old_p` (old ids) and `new_p` (new ids) are
    /// each other's images in the same order, with their names sorting the
    /// same way and same-name candidates in the same EVR order in both pools.
    fn corresponds(&self, old_p: &[ffi::Id], new_p: &[ffi::Id]) -> bool {
        if old_p.len() != new_p.len()
            || old_p
                .iter()
                .zip(new_p)
                .any(|(&o, &n)| n == 0 || self.image(o) != n)
        {
            return false;
        }
        if new_p.len() < 2 {
            return true;
        }
        // Candidate i's rank in the pool's own policy order: by name id,
        // then by EVR (what libsolv's prune_to_best_version sorts by).
        let rank = |pool: &Pool, ps: &[ffi::Id]| -> Vec<usize> {
            let mut idx: Vec<usize> = (0..ps.len()).collect();
            idx.sort_by(|&a, &b| {
                let (na, ea, _) = pool.solvable_ids(ps[a]);
                let (nb, eb, _) = pool.solvable_ids(ps[b]);
                na.cmp(&nb)
                    .then_with(|| pool.evr_cmp(ea, eb))
                    .then(a.cmp(&b))
            });
            idx
        };
        rank(self.old, old_p) == rank(self.new, new_p)
    }
}

impl Delta {
    /// Compares the two states. `old` and `new` must be resolvers over the
    /// old and the new repositories; `old_group` and `new_group` are their
    /// build groups.
    pub fn new(
        old: &mut Resolver,
        new: &mut Resolver,
        old_group: &[String],
        new_group: &[String],
    ) -> Delta {
        let started = Instant::now();
        let (op, np) = (old.pool(), new.pool());
        let old_entries = entries(op);
        let new_entries = entries(np);

        // Pairs: the same NEVRA with the same content, else the only
        // package of a name and arch in each pool (a successor build).
        let old_by_nevra = unique_keys(old_entries.iter().map(|e| (e.nevra.as_str(), e)));
        let new_by_nevra = unique_keys(new_entries.iter().map(|e| (e.nevra.as_str(), e)));
        let mut pairs: Vec<(ffi::Id, ffi::Id)> = Vec::new();
        let mut identical = HashSet::new();
        for (k, n) in &new_by_nevra {
            if let Some(o) = old_by_nevra.get(k)
                && o.hash == n.hash
            {
                pairs.push((o.id, n.id));
                identical.insert(n.id);
            }
        }
        let paired_old: HashSet<ffi::Id> = pairs.iter().map(|&(o, _)| o).collect();
        let old_rest = unique_keys(
            old_entries
                .iter()
                .filter(|e| !paired_old.contains(&e.id))
                .map(|e| (&e.name_arch, e)),
        );
        let new_rest = unique_keys(
            new_entries
                .iter()
                .filter(|e| !identical.contains(&e.id))
                .map(|e| (&e.name_arch, e)),
        );
        for (k, n) in &new_rest {
            if let Some(o) = old_rest.get(k)
                && o.disabled == n.disabled
            {
                pairs.push((o.id, n.id));
            }
        }
        // Keep the largest set of pairs whose relative order is the same in
        // both pools (package ids order libsolv's rules).
        pairs.sort_unstable();
        let seq: Vec<ffi::Id> = pairs.iter().map(|&(_, n)| n).collect();
        let keep = longest_increasing(&seq);
        let all_pairs = pairs.len();
        let mut old_to_new = vec![0; op.nsolvables().max(0) as usize];
        let n = np.nsolvables().max(0) as usize;
        let mut new_to_old = vec![0; n];
        for &i in &keep {
            let (o, nw) = pairs[i];
            old_to_new[o as usize] = nw;
            new_to_old[nw as usize] = o;
        }
        let pairing = Pairing {
            old: op,
            new: np,
            old_to_new,
        };

        // Seeds of the taint: unpaired packages, and paired ones with a
        // dependency whose candidates do not correspond. Reverse edges for
        // the propagation, over every dependency array.
        let mut tainted = vec![false; n];
        let mut dependents: Vec<Vec<ffi::Id>> = vec![Vec::new(); n];
        let mut memo: HashMap<(ffi::Id, ffi::Id), bool> = HashMap::new();
        let (mut qo, mut qn) = (Queue::new(), Queue::new());
        let (mut lo, mut ln) = (Vec::new(), Vec::new());
        let (mut so, mut sn) = (Vec::new(), Vec::new());
        let marker = ffi::solv_knownid_SOLVABLE_PREREQMARKER as ffi::Id;
        // Names with a build that is not the same package in both states.
        let mut in_flux: HashSet<Vec<u8>> = HashSet::new();
        for e in &old_entries {
            if pairing.image(e.id) == 0 || !identical.contains(&pairing.image(e.id)) {
                in_flux.insert(e.name_arch.0.clone());
            }
        }
        for e in &new_entries {
            if new_to_old[e.id as usize] == 0 || !identical.contains(&e.id) {
                in_flux.insert(e.name_arch.0.clone());
            }
        }
        for x in 2..np.nsolvables() {
            if !np.is_package(x) {
                continue;
            }
            let xi = x as usize;
            let partner = new_to_old[xi];
            if partner == 0 {
                tainted[xi] = true;
            }
            // libsolv's multilib lock-step rules tie an inferior-arch package
            // to the same-version builds of its name: they join its solve
            // like the candidates of a dependency, so they must be the images
            // of the old package's, and their taint spreads to it.
            let relatives = np.lock_step_relatives(x);
            for &y in &relatives {
                dependents[y as usize].push(x);
            }
            if partner != 0 && !tainted[xi] {
                let mut images: Vec<ffi::Id> = op
                    .lock_step_relatives(partner)
                    .into_iter()
                    .map(|o| pairing.image(o))
                    .collect();
                images.sort_unstable();
                if images != relatives {
                    tainted[xi] = true;
                }
            }
            for kind in DepKind::ALL {
                if kind == DepKind::Provides {
                    continue;
                }
                np.deps(x, kind, &mut qn);
                for &d in qn.as_slice() {
                    ln.clear();
                    leaves(np, d, &mut ln);
                    for &leaf in &ln {
                        for y in np.whatprovides(leaf) {
                            if y != x {
                                dependents[y as usize].push(x);
                            }
                        }
                    }
                }
                if partner == 0 || tainted[xi] {
                    continue;
                }
                op.deps(partner, kind, &mut qo);
                if qo.as_slice().len() != qn.as_slice().len() {
                    tainted[xi] = true;
                    continue;
                }
                for (&od, &nd) in qo.as_slice().iter().zip(qn.as_slice()) {
                    if od == marker || nd == marker {
                        if od != nd {
                            tainted[xi] = true;
                            break;
                        }
                        continue;
                    }
                    lo.clear();
                    ln.clear();
                    so.clear();
                    sn.clear();
                    shape(op, od, &mut so, &mut lo);
                    shape(np, nd, &mut sn, &mut ln);
                    // libsolv matches obsoletes against package names and
                    // EVRs, not provides: any build of an obsoleted name
                    // that is not the same package counts as a change.
                    let obsoleted_in_flux = kind == DepKind::Obsoletes
                        && ln
                            .iter()
                            .any(|&l| in_flux.contains(np.id_bytes(dep_name(np, l))));
                    let ok = so == sn
                        && !obsoleted_in_flux
                        && lo.iter().zip(&ln).all(|(&a, &b)| {
                            *memo.entry((a, b)).or_insert_with(|| {
                                pairing.corresponds(&op.whatprovides(a), &np.whatprovides(b))
                            })
                        });
                    if !ok {
                        tainted[xi] = true;
                        break;
                    }
                }
            }
        }
        let changed_deps = memo.values().filter(|&&c| !c).count();

        // Propagate to everything that can reach a tainted package; a
        // tainted package's supplements taint what they name (libsolv adds
        // supplementing packages from outside the closure), until stable.
        let mut stack: Vec<usize> = (0..n).filter(|&i| tainted[i]).collect();
        let mut supplement_checked = vec![false; n];
        while !stack.is_empty() {
            while let Some(y) = stack.pop() {
                for &x in &dependents[y] {
                    if !tainted[x as usize] {
                        tainted[x as usize] = true;
                        stack.push(x as usize);
                    }
                }
            }
            for s in 2..np.nsolvables() {
                let si = s as usize;
                if !tainted[si] || supplement_checked[si] || !np.is_package(s) {
                    continue;
                }
                supplement_checked[si] = true;
                np.deps(s, DepKind::Supplements, &mut qn);
                for &d in qn.as_slice() {
                    ln.clear();
                    leaves(np, d, &mut ln);
                    for &leaf in &ln {
                        for y in np.whatprovides(leaf) {
                            if !tainted[y as usize] {
                                tainted[y as usize] = true;
                                stack.push(y as usize);
                            }
                        }
                    }
                }
            }
        }
        drop(dependents);

        let old_ids: HashMap<String, ffi::Id> = old_by_nevra
            .iter()
            .map(|(k, e)| ((*k).to_owned(), e.id))
            .collect();
        let stats = DeltaStats {
            old_packages: old_entries.len(),
            new_packages: new_entries.len(),
            identical: keep
                .iter()
                .filter(|&&i| identical.contains(&pairs[i].1))
                .count(),
            successors: keep
                .iter()
                .filter(|&&i| !identical.contains(&pairs[i].1))
                .count(),
            removed: old_entries.len() - keep.len(),
            added: new_entries.len() - keep.len(),
            reordered: all_pairs - keep.len(),
            changed_deps,
            tainted: tainted.iter().filter(|&&t| t).count(),
            time: started.elapsed(),
        };
        let Pairing { old_to_new, .. } = pairing;
        let mut identical_new = vec![false; n];
        for &i in &keep {
            if identical.contains(&pairs[i].1) {
                identical_new[pairs[i].1 as usize] = true;
            }
        }
        Delta {
            old_ids,
            old_to_new,
            tainted,
            identical: identical_new,
            group_changed: old_group != new_group,
            job_memo: HashMap::new(),
            stats,
        }
    }

    /// Figures of the analysis.
    pub fn stats(&self) -> &DeltaStats {
        &self.stats
    }

    /// Whether a job entry for `dep` selects packages in the new state that
    /// do not correspond to those it selects in the old, or a tainted one.
    fn job_changed(&mut self, old: &mut Resolver, new: &mut Resolver, dep: &str) -> bool {
        if let Some(&c) = self.job_memo.get(dep) {
            return c;
        }
        let old_c = old.job_candidates(dep);
        let new_c = new.job_candidates(dep);
        let pairing = Pairing {
            old: old.pool(),
            new: new.pool(),
            old_to_new: std::mem::take(&mut self.old_to_new),
        };
        let is_tainted = |p: &ffi::Id| self.tainted.get(*p as usize).copied().unwrap_or(true);
        let mut changed = !pairing.corresponds(&old_c, &new_c) || new_c.iter().any(is_tainted);
        // libsolv turns a rich install job into rules over its operands, so
        // those must correspond and be clean as well.
        if !changed && let (Some(od), Some(nd)) = (old.dep_id(dep), new.dep_id(dep)) {
            let (mut so, mut sn, mut lo, mut ln) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            shape(pairing.old, od, &mut so, &mut lo);
            shape(pairing.new, nd, &mut sn, &mut ln);
            changed = so != sn
                || lo.iter().zip(&ln).any(|(&a, &b)| {
                    let (pa, pb) = (pairing.old.whatprovides(a), pairing.new.whatprovides(b));
                    !pairing.corresponds(&pa, &pb) || pb.iter().any(is_tainted)
                });
        }
        self.old_to_new = pairing.old_to_new;
        self.job_memo.insert(dep.to_owned(), changed);
        changed
    }

    /// The new answer of the package with these `build_requires`, whose
    /// answer against the old state was `previous`, when it follows without
    /// solving; otherwise why it must be solved again. `group` is the build
    /// group (the same in both states unless [`Affected::BuildGroupChanged`]).
    ///
    /// A carried answer is `previous` with every installed package replaced
    /// by its counterpart in the new state (the same package, or the
    /// successor build of the same name and arch).
    pub fn carry(
        &mut self,
        old: &mut Resolver,
        new: &mut Resolver,
        group: &[String],
        build_requires: &[String],
        previous: Option<&Resolution>,
    ) -> Result<Resolution, Affected> {
        let Some(previous) = previous else {
            return Err(Affected::NoPreviousAnswer);
        };
        if !previous.resolved {
            return Err(Affected::PreviouslyUnresolved);
        }
        if self.group_changed {
            return Err(Affected::BuildGroupChanged);
        }
        // Most images are the same package: only successors need new strings.
        let mut successors = Vec::new();
        for (i, nevra) in previous.installs.iter().enumerate() {
            let image = self
                .old_ids
                .get(nevra)
                .map(|&o| self.old_to_new.get(o as usize).copied().unwrap_or(0))
                .unwrap_or(0);
            if image == 0 {
                return Err(Affected::InstalledPackageChanged {
                    nevra: nevra.clone(),
                });
            }
            if self.tainted[image as usize] {
                return Err(Affected::InstalledPackageTainted {
                    nevra: nevra.clone(),
                });
            }
            if !self.identical[image as usize] {
                successors.push((i, image));
            }
        }
        for dep in group.iter().chain(build_requires) {
            if self.job_changed(old, new, dep) {
                return Err(Affected::JobChanged { dep: dep.clone() });
            }
        }
        if successors.is_empty() {
            return Ok(previous.clone());
        }
        let mut installs = previous.installs.clone();
        for (i, image) in successors {
            installs[i] = nevra_of(new.pool(), image);
        }
        installs.sort();
        Ok(Resolution {
            resolved: true,
            installs,
            problems: Vec::new(),
        })
    }
}

/// The two repository states of an incremental run.
#[derive(Debug, Clone, Copy)]
pub struct States<'a> {
    /// Repositories of the old state (loaded together in one pool).
    pub old: &'a [&'a Repository],
    /// Repositories of the new state.
    pub new: &'a [&'a Repository],
    /// Options the previous answers were computed with.
    pub old_options: ResolveOptions,
    /// Options for the new state.
    pub new_options: ResolveOptions,
    /// Build group of the old state.
    pub old_group: &'a [String],
    /// Build group of the new state.
    pub new_group: &'a [String],
}

/// What an incremental run does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The answer follows from the previous one without solving.
    Carried(Resolution),
    /// The request must be solved again, for this reason.
    Solve(Affected),
}

/// Which requests an incremental run solves again, and why.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Per request, in input order.
    pub verdicts: Vec<Verdict>,
    /// Figures of the state comparison.
    pub delta: DeltaStats,
    /// Wall time of planning (both pools loaded, compared, every request checked).
    pub time: Duration,
}

impl Plan {
    /// Number of requests solved again.
    pub fn to_solve(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Solve(_)))
            .count()
    }

    /// How many requests are solved again for each reason kind.
    pub fn reasons(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for v in &self.verdicts {
            if let Verdict::Solve(a) = v {
                *out.entry(a.kind()).or_default() += 1;
            }
        }
        out
    }

    /// The figures of the plan, without the verdicts.
    pub fn summary(&self) -> PlanSummary {
        PlanSummary {
            solved_again: self.to_solve(),
            carried: self.verdicts.len() - self.to_solve(),
            reasons: self.reasons(),
            delta: self.delta.clone(),
            time: self.time,
        }
    }

    /// The figures, and per request the carried answer (`None`: to solve).
    pub fn into_carried(self) -> (PlanSummary, Vec<Option<Resolution>>) {
        let summary = self.summary();
        let carried = self
            .verdicts
            .into_iter()
            .map(|v| match v {
                Verdict::Carried(r) => Some(r),
                Verdict::Solve(_) => None,
            })
            .collect();
        (summary, carried)
    }
}

/// The figures of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanSummary {
    /// Requests solved again.
    pub solved_again: usize,
    /// Requests whose answer was carried over.
    pub carried: usize,
    /// Requests solved again, by reason kind ([`Affected::kind`]).
    pub reasons: BTreeMap<&'static str, usize>,
    /// Figures of the state comparison.
    pub delta: DeltaStats,
    /// Wall time of planning.
    #[serde(skip)]
    pub time: Duration,
}

/// Decides for every request whether its `previous` answer (against the
/// old state) still stands in the new state. `requests[i]` are the
/// BuildRequires of request `i`, `previous[i]` its old answer if known.
pub fn plan_incremental(
    states: &States<'_>,
    requests: &[Vec<String>],
    previous: &[Option<&Resolution>],
) -> Result<Plan, SolverError> {
    let started = Instant::now();
    let mut old = Resolver::new(states.old, states.old_options)?;
    let mut new = Resolver::new(states.new, states.new_options)?;
    let mut delta = Delta::new(&mut old, &mut new, states.old_group, states.new_group);
    let verdicts = requests
        .iter()
        .enumerate()
        .map(|(i, brs)| {
            let prev = previous.get(i).copied().flatten();
            match delta.carry(&mut old, &mut new, states.new_group, brs, prev) {
                Ok(r) => Verdict::Carried(r),
                Err(a) => Verdict::Solve(a),
            }
        })
        .collect();
    Ok(Plan {
        verdicts,
        delta: delta.stats().clone(),
        time: started.elapsed(),
    })
}

/// [`crate::resolve_all`] against the new state that solves only what
/// [`plan_incremental`] finds affected and carries the other previous
/// answers over; the answers are identical to a full run's. Results reach
/// `on_result` in input order ([`Resolved::reused`] marks carried ones).
pub fn resolve_incremental<F>(
    states: &States<'_>,
    requests: &[Vec<String>],
    previous: &[Option<&Resolution>],
    jobs: usize,
    on_result: F,
) -> Result<(PlanSummary, BatchStats), SolverError>
where
    F: FnMut(Resolved),
{
    let (summary, carried) = plan_incremental(states, requests, previous)?.into_carried();
    let (repos, options, group) = (states.new, states.new_options, states.new_group);
    let stats = run_batch_carrying(
        requests,
        carried,
        jobs,
        || Resolver::new(repos, options),
        |resolver: &mut Resolver, brs: &[String]| resolver.resolve(group, brs),
        on_result,
    )?;
    Ok((summary, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_increasing_subsequence() {
        let seq = [3, 4, 1, 5, 2, 6];
        let idx = longest_increasing(&seq);
        let vals: Vec<ffi::Id> = idx.iter().map(|&i| seq[i]).collect();
        assert_eq!(vals.len(), 4);
        assert!(vals.windows(2).all(|w| w[0] < w[1]), "{vals:?}");
        assert!(longest_increasing(&[]).is_empty());
        assert_eq!(longest_increasing(&[5, 4, 3]).len(), 1);
    }

    #[test]
    fn reasons_have_stable_kinds_and_texts() {
        let r = Affected::InstalledPackageChanged {
            nevra: "a-0:1-1.noarch".to_owned(),
        };
        assert_eq!(r.kind(), "installed-package-changed");
        assert_eq!(r.to_string(), "installed package `a-0:1-1.noarch` changed");
        assert_eq!(Affected::NoPreviousAnswer.kind(), "no-previous-answer");
    }
}
