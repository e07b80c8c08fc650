//! Translation layer: dependency strings in, [`Resolution`]s out.

use std::collections::{HashMap, HashSet};

use crate::error::SolverError;
use crate::ffi;
use crate::repository::Repository;
use crate::wrapper::{Pool, Queue, Solver};

/// Options of one resolution run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Ignore weak dependencies (Recommends/Supplements), as Koschei's
    /// `dependency.ignore_weak_deps`.
    pub ignore_weak_deps: bool,
    /// Across the loaded repositories keep only the highest EVR of each
    /// package name (Koschei's `copr.overriding_by_exclusions`).
    pub override_by_exclusion: bool,
}

/// The outcome of resolving one set of BuildRequires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resolution {
    /// True when there are no problems.
    pub resolved: bool,
    /// Packages that would be installed, `name-epoch:version-release.arch`
    /// (epoch always written), sorted; empty when unresolved.
    pub installs: Vec<String>,
    /// Problem texts exactly as Koschei stores them, sorted, no duplicates.
    pub problems: Vec<String>,
}

/// A solver over one pool loaded from one or more repositories.
///
/// Not `Send`: create one per thread (loading from the `.solv` cache is
/// cheap). The libsolv solver is reused for successive resolutions, except
/// in a pool where that could change an answer (see
/// [`Resolver::reuses_solver`]).
pub struct Resolver {
    // Field order matters: the solver must be dropped before the pool.
    solver: Solver<'static>,
    job: Queue,
    scratch: Queue,
    /// False when every resolution needs a fresh solver.
    reuse_solver: bool,
    /// Whether `solver` has solved a job already.
    solver_used: bool,
    ignore_weak_deps: bool,
    pool: Box<Pool>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").finish_non_exhaustive()
    }
}

/// libdnf's problem-rule templates (`libdnf/goal/Goal.cpp` as shipped in
/// libdnf 0.69, package variant: no repository names), checked word for
/// word against python3-hawkey by the differential tests.
fn describe_rule(pool: &Pool, solver: &mut Solver<'_>, info: [ffi::Id; 4]) -> String {
    let [kind, source, target, dep] = info;
    let s = |p| pool.solvid2str(p);
    let d = |id| pool.dep2str(id);
    match kind as ffi::SolverRuleinfo {
        ffi::SolverRuleinfo_SOLVER_RULE_DISTUPGRADE => {
            format!("{} does not belong to a distupgrade repository", s(source))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_INFARCH => {
            format!("{} has inferior architecture", s(source))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_UPDATE => {
            format!("problem with installed package {}", s(source))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_JOB => "conflicting requests".to_owned(),
        ffi::SolverRuleinfo_SOLVER_RULE_JOB_UNSUPPORTED => "unsupported request".to_owned(),
        ffi::SolverRuleinfo_SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP => {
            format!("nothing provides requested {}", d(dep))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_JOB_UNKNOWN_PACKAGE => {
            format!("package {} does not exist", d(dep))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_JOB_PROVIDED_BY_SYSTEM => {
            format!("{} is provided by the system", d(dep))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG => "some dependency problem".to_owned(),
        ffi::SolverRuleinfo_SOLVER_RULE_BEST => {
            if source > 0 {
                format!(
                    "cannot install the best update candidate for package {}",
                    s(source)
                )
            } else {
                "cannot install the best candidate for the job".to_owned()
            }
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_NOT_INSTALLABLE => {
            if pool.is_disabled(source) {
                format!("package {} is filtered out by exclude filtering", s(source))
            } else if pool.has_incompatible_arch(source) {
                format!(
                    "package {} does not have a compatible architecture",
                    s(source)
                )
            } else {
                format!("package {} is not installable", s(source))
            }
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP => {
            format!("nothing provides {} needed by {}", d(dep), s(source))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_SAME_NAME => {
            format!("cannot install both {} and {}", s(source), s(target))
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_CONFLICTS => {
            format!(
                "package {} conflicts with {} provided by {}",
                s(source),
                d(dep),
                s(target)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_OBSOLETES => {
            format!(
                "package {} obsoletes {} provided by {}",
                s(source),
                d(dep),
                s(target)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_INSTALLED_OBSOLETES => {
            format!(
                "installed package {} obsoletes {} provided by {}",
                s(source),
                d(dep),
                s(target)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_IMPLICIT_OBSOLETES => {
            format!(
                "package {} implicitly obsoletes {} provided by {}",
                s(source),
                d(dep),
                s(target)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_REQUIRES => {
            format!(
                "package {} requires {}, but none of the providers can be installed",
                s(source),
                d(dep)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_PKG_SELF_CONFLICT => {
            format!(
                "package {} conflicts with {} provided by itself",
                s(source),
                d(dep)
            )
        }
        ffi::SolverRuleinfo_SOLVER_RULE_YUMOBS => {
            format!(
                "both package {} and {} obsolete {}",
                s(source),
                s(target),
                d(dep)
            )
        }
        _ => solver.ruleinfo2str(info),
    }
}

/// The resolver's pool with the lifetime of the resolver's solver.
///
/// The solver borrows the pool for as long as the Resolver lives: the borrow
/// checker cannot express a struct borrowing its own field, so the lifetime
/// is extended by hand.
///
/// # Safety
/// `pool` must be the content of a Resolver's `pool` box, and the result may
/// only go into that Resolver's `solver` field: the box is never moved out of
/// or replaced, and `solver` is declared before `pool`, so it is dropped
/// first.
unsafe fn extend(pool: &Pool) -> &'static Pool {
    let p: *const Pool = pool;
    // SAFETY: guaranteed by the caller: the pool outlives the solver.
    unsafe { &*p }
}

/// `name-epoch:version-release.arch` from libsolv's name, EVR and arch.
pub(crate) fn nevra(name: &str, evr: &str, arch: &str) -> String {
    let (epoch, vr) = match evr.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, rest),
        _ => ("0", evr),
    };
    format!("{name}-{epoch}:{vr}.{arch}")
}

/// The path a file BuildRequire is looked up by in the file lists: libdnf's
/// query filter drops one trailing slash from a file match longer than one
/// character (`copyFilterChar`), so `/usr/share/tool/` finds the directory
/// `/usr/share/tool`. The provides lookup before it uses the string as it is.
fn file_lookup_path(dep: &str) -> &str {
    match dep.strip_suffix('/') {
        Some(path) if !path.is_empty() => path,
        _ => dep,
    }
}

/// Relation flags for a comparison operator, as libdnf's dependency splitter.
fn rel_flags(op: &str) -> Option<u32> {
    Some(match op {
        "<" => ffi::REL_LT,
        "<=" | "=<" => ffi::REL_LT | ffi::REL_EQ,
        "=" | "==" => ffi::REL_EQ,
        ">=" | "=>" => ffi::REL_GT | ffi::REL_EQ,
        ">" => ffi::REL_GT,
        _ => return None,
    })
}

impl Resolver {
    /// Loads `repos` into one new pool (from their caches) and creates a solver.
    pub fn new(repos: &[&Repository], options: ResolveOptions) -> Result<Resolver, SolverError> {
        let arch = repos.first().map_or("x86_64", |r| r.arch());
        let mut pool = Box::new(Pool::new(arch).map_err(SolverError::Setup)?);
        for repo in repos {
            repo.add_to_pool(&mut pool)?;
        }
        if options.override_by_exclusion {
            pool.exclude_all_but_highest_evr();
        }
        pool.make_provides_ready();
        let reuse_solver = !pool.has_lock_step_gap();
        // SAFETY: `pool` is the box the returned Resolver owns; the solver
        // goes into its `solver` field.
        let solver = Solver::new(unsafe { extend(&pool) }, options.ignore_weak_deps);
        Ok(Resolver {
            solver,
            job: Queue::new(),
            scratch: Queue::new(),
            reuse_solver,
            solver_used: false,
            ignore_weak_deps: options.ignore_weak_deps,
            pool,
        })
    }

    /// Whether successive resolutions share one libsolv solver (the fast
    /// path). Not in a pool with a multilib package whose best-arch build is
    /// of another version (an i686 `libbar-1.0` beside an x86_64
    /// `libbar-2.0`): libsolv's infarch rules of a reused solver look at the
    /// packages of every earlier solve, so there an answer could depend on
    /// what was solved before, while hawkey solves each goal afresh.
    pub fn reuses_solver(&self) -> bool {
        self.reuse_solver
    }

    /// The pool this resolver solves in.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The solvables an install job for `dep` selects, as `push_install`
    /// builds it: the providers, else for a path the packages containing
    /// the file; empty when nothing matches.
    pub(crate) fn job_candidates(&mut self, dep: &str) -> Vec<ffi::Id> {
        if let Some(id) = self.dep_id(dep) {
            let found = self.pool.whatprovides(id);
            if !found.is_empty() {
                return found;
            }
        }
        let mut out = Vec::new();
        if dep.starts_with('/') {
            self.pool
                .select_file(file_lookup_path(dep), &mut self.scratch);
            for pair in self.scratch.as_slice().chunks_exact(2) {
                out.extend(self.pool.selection_solvables(pair[0], pair[1]));
            }
        }
        out
    }

    /// The libsolv id of a dependency string, parsed as libdnf does; `None`
    /// when it cannot be parsed.
    pub(crate) fn dep_id(&self, dep: &str) -> Option<ffi::Id> {
        let dep = dep.trim();
        if dep.starts_with('(') {
            return self.pool.parse_rich_dep(dep);
        }
        let parts: Vec<&str> = dep.split_whitespace().collect();
        match parts.as_slice() {
            [name] => Some(self.pool.str2id(name)),
            [name, op, evr] => {
                let flags = rel_flags(op)?;
                Some(
                    self.pool
                        .rel2id(self.pool.str2id(name), self.pool.str2id(evr), flags),
                )
            }
            _ => None,
        }
    }

    /// Adds the install job for `dep` (Koschei's `_get_builddep_selector`):
    /// by provides, then by file list for paths. False when nothing matches.
    fn push_install(&mut self, dep: &str) -> bool {
        if let Some(id) = self.dep_id(dep)
            && !self.pool.whatprovides(id).is_empty()
        {
            self.job
                .push((ffi::SOLVER_INSTALL | ffi::SOLVER_SOLVABLE_PROVIDES) as ffi::Id);
            self.job.push(id);
            return true;
        }
        if dep.starts_with('/') {
            self.pool
                .select_file(file_lookup_path(dep), &mut self.scratch);
            let sel = self.scratch.as_slice().to_vec();
            if sel.is_empty() {
                return false;
            }
            for pair in sel.chunks_exact(2) {
                self.job.push(pair[0] | ffi::SOLVER_INSTALL as ffi::Id);
                self.job.push(pair[1]);
            }
            return true;
        }
        false
    }

    /// Resolves the build group plus `build_requires` exactly as Koschei's
    /// `run_goal`: build-group names matching nothing are skipped, an
    /// unmatched BuildRequire is the problem `No package found for: <dep>`
    /// (rich ones are skipped), then the solver's problems in libdnf's words.
    pub fn resolve(&mut self, build_group: &[String], build_requires: &[String]) -> Resolution {
        self.job.clear();
        let mut problems = Vec::new();
        for name in build_group {
            self.push_install(name);
        }
        for dep in build_requires {
            if !self.push_install(dep) && !dep.starts_with('(') {
                problems.push(format!("No package found for: {dep}"));
            }
        }
        if self.solver_used && !self.reuse_solver {
            // SAFETY: this Resolver's own pool, for its `solver` field.
            self.solver = Solver::new(unsafe { extend(&self.pool) }, self.ignore_weak_deps);
        }
        self.solver_used = true;
        let count = self.solver.solve(&mut self.job);
        for rules in self.problem_rules(count) {
            let mut it = rules.into_iter();
            if let Some(first) = it.next() {
                let mut text = format!("Problem: {first}");
                for rest in it {
                    text.push_str("\n - ");
                    text.push_str(&rest);
                }
                problems.push(text);
            }
        }
        problems.sort();
        problems.dedup();
        let resolved = problems.is_empty();
        let mut installs = Vec::new();
        if resolved {
            let trans = self.solver.transaction();
            for p in trans.installs() {
                let (name, evr, arch) = self.pool.nevra_parts(p);
                if arch != "src" {
                    installs.push(nevra(&name, &evr, &arch));
                }
            }
            installs.sort();
        }
        Resolution {
            resolved,
            installs,
            problems,
        }
    }

    /// libdnf's `describeAllProblemRules(true)`: per problem the unique rule
    /// texts in order; a problem whose texts equal an earlier one's is dropped.
    fn problem_rules(&mut self, count: u32) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for problem in 1..=count {
            let mut list: Vec<String> = Vec::new();
            for info in self.solver.problem_rule_infos(problem) {
                let text = describe_rule(&self.pool, &mut self.solver, info);
                if !list.contains(&text) {
                    list.push(text);
                }
            }
            if list.is_empty() {
                continue;
            }
            let duplicate = out
                .iter()
                .any(|saved| saved.len() == list.len() && list.iter().all(|t| saved.contains(t)));
            if !duplicate {
                out.push(list);
            }
        }
        out
    }

    /// Dependency distances (spec 3.4, Koschei's `compute_dependency_distances`)
    /// of the packages in `installs` (NEVRA strings): BFS from the packages
    /// matching the BuildRequires, following `requires` (not weak deps) by
    /// provides; the build group is not a root. Keyed by package name, 1..=4.
    pub fn dependency_distances(
        &mut self,
        build_requires: &[String],
        installs: &[String],
    ) -> HashMap<String, u32> {
        let wanted: HashSet<String> = installs
            .iter()
            .filter_map(|n| crate::diff::nevra_name(n))
            .map(str::to_owned)
            .collect();
        let mut roots: Vec<ffi::Id> = Vec::new();
        for dep in build_requires {
            roots.extend(self.matches(dep));
        }
        let pool = &*self.pool;
        let mut reqs = Queue::new();
        crate::diff::bfs_distances(
            roots,
            |&p| pool.id2str(pool.solvable_name(p)),
            |level: &[ffi::Id]| {
                let mut next = Vec::new();
                let mut seen_dep = HashSet::new();
                for &p in level {
                    pool.requires(p, &mut reqs);
                    for &dep in reqs.as_slice() {
                        if seen_dep.insert(dep) {
                            next.extend(pool.whatprovides(dep));
                        }
                    }
                }
                next
            },
            &wanted,
        )
    }

    /// Packages matching a dependency string as Koschei's selector does.
    fn matches(&mut self, dep: &str) -> Vec<ffi::Id> {
        if let Some(id) = self.dep_id(dep) {
            let found = self.pool.whatprovides(id);
            if !found.is_empty() {
                return found;
            }
        }
        if dep.starts_with('/') {
            self.pool
                .select_file(file_lookup_path(dep), &mut self.scratch);
            let sel = self.scratch.as_slice().to_vec();
            let mut out = Vec::new();
            for pair in sel.chunks_exact(2) {
                // A file selection is a list of single solvables or a one-of set.
                if pair[0] as u32 & ffi::SOLVER_SELECTMASK == ffi::SOLVER_SOLVABLE {
                    out.push(pair[1]);
                }
            }
            return out;
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_lookup_drops_one_trailing_slash_as_libdnf() {
        assert_eq!(file_lookup_path("/usr/share/tool/"), "/usr/share/tool");
        assert_eq!(file_lookup_path("/usr/share/tool//"), "/usr/share/tool/");
        assert_eq!(file_lookup_path("/usr/bin/tool"), "/usr/bin/tool");
        assert_eq!(file_lookup_path("/"), "/");
        assert_eq!(file_lookup_path("//"), "/");
    }

    #[test]
    fn nevra_always_has_an_epoch() {
        assert_eq!(nevra("a", "1.0-2", "x86_64"), "a-0:1.0-2.x86_64");
        assert_eq!(nevra("a", "3:1.0-2", "noarch"), "a-3:1.0-2.noarch");
    }
}
