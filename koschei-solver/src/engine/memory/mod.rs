//! What the engine's resolver remembers of the latest repo of each build tag, and the
//! incremental re-resolution of a newer repo against it (docs/incremental.md, "In the engine").
//!
//! For each build tag the memory holds the *current generation*: the latest repo resolved
//! for the tag (its Koji repo id, `repomd.xml` checksum, build group and resolver options)
//! and every answer computed in it, keyed by the BuildRequires list, with the dependency
//! distances. Answers are compact: each NEVRA string is stored once per generation and an
//! install set is a varint-packed list of (string index, distance) pairs.
//!
//! When a newer repo of the tag is resolved, the current generation becomes the *old* one
//! and a new generation starts. Every request for the new repo is then checked against the
//! old generation with [`crate::Delta`], which is built once per pair of repos and
//! kept for all later calls (the repo resolver calls once per chunk of packages): an
//! unaffected request carries its old answer over, mapped to the new builds and with its old
//! distances; the others are solved. A request for an older repo than the current
//! generation's (the build resolver's) is resolved fully and leaves the memory alone.
//!
//! The current generation is written to one file per build tag after each successful pass
//! (see `memory_file`), so that `koschei run --once` from cron also resolves incrementally.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::{Delta, Repository, ResolveOptions, Resolver, SolverError, resolve_all};
use koschei_core::model::RepoId;

use super::memory_file;
use koschei_core::resolve::PassStats;

/// How the memory resolves and where it keeps its files.
#[derive(Debug, Clone)]
pub(crate) struct MemorySettings {
    /// Name of the Koji instance (part of the file name and checked on reading).
    pub(crate) koji_id: String,
    /// Repo arch resolved for.
    pub(crate) arch: String,
    /// Resolver options; remembered answers are only used with the same options.
    pub(crate) options: ResolveOptions,
    /// Solver threads.
    pub(crate) jobs: usize,
    /// Directory of the memory files; `None` keeps the memory in this process only.
    pub(crate) dir: Option<PathBuf>,
    /// Interval of progress log lines during a resolution (`None`: none).
    pub(crate) progress_interval: Option<Duration>,
}

/// Logs how far a long resolution got, at most once per interval (the original's
/// `perf_report_interval`): `resolving f44-build: 12000 of 34288 requests (200/s)`.
struct Progress<'a> {
    what: &'a str,
    total: usize,
    done: usize,
    interval: Option<Duration>,
    started: Instant,
    last: Instant,
}

impl<'a> Progress<'a> {
    fn new(what: &'a str, total: usize, interval: Option<Duration>) -> Self {
        let now = Instant::now();
        Progress {
            what,
            total,
            done: 0,
            interval,
            started: now,
            last: now,
        }
    }

    /// Counts one more finished request; logs (and says so) when the interval passed.
    fn tick(&mut self, phase: &str) -> bool {
        self.done += 1;
        let Some(interval) = self.interval else {
            return false;
        };
        if self.last.elapsed() < interval {
            return false;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        tracing::info!(
            what = self.what,
            done = self.done,
            total = self.total,
            "{} {}: {} of {} requests ({:.0}/s)",
            phase,
            self.what,
            self.done,
            self.total,
            self.done as f64 / secs
        );
        true
    }
}

/// One answer of [`Memory::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Whether the build group and the BuildRequires can be installed.
    pub(crate) resolved: bool,
    /// The installed packages, `N-E:V-R.A` sorted, with their dependency distance
    /// (`Resolver::dependency_distances`; `None` for build-group-only or farther ones).
    pub(crate) installs: Vec<(String, Option<u32>)>,
    /// Problem texts, sorted; empty when resolved.
    pub(crate) problems: Vec<String>,
}

/// NEVRA strings of one generation, each stored once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Interner {
    strings: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    /// The index of `s`, added when new.
    pub(super) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = u32::try_from(self.strings.len()).expect("fewer than 2^32 NEVRAs in one repo");
        self.strings.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }

    /// The string at index `i`.
    pub(super) fn get(&self, i: u32) -> Option<&str> {
        self.strings.get(i as usize).map(String::as_str)
    }

    /// All strings, by index.
    pub(super) fn strings(&self) -> &[String] {
        &self.strings
    }

    /// Number of strings.
    pub(super) fn len(&self) -> usize {
        self.strings.len()
    }
}

/// Appends `v` as a LEB128 varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*pos`, advancing it; `None` when malformed or truncated.
pub(super) fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// One remembered answer: the resolved flag and the install set as varint pairs
/// (index delta, distance + 1 or 0), sorted by string index. Problems are not kept:
/// an unresolved package is always solved again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Packed {
    pub(super) resolved: bool,
    pub(super) installs: Box<[u8]>,
}

impl Packed {
    fn pack(nevras: &mut Interner, answer: &Answer) -> Packed {
        let mut ids: Vec<(u32, Option<u32>)> = if answer.resolved {
            answer
                .installs
                .iter()
                .map(|(n, d)| (nevras.intern(n), *d))
                .collect()
        } else {
            Vec::new()
        };
        ids.sort_unstable();
        let mut out = Vec::with_capacity(ids.len() * 3);
        let mut last = 0;
        for (i, d) in ids {
            put_varint(&mut out, u64::from(i - last));
            put_varint(&mut out, d.map_or(0, |d| u64::from(d) + 1));
            last = i;
        }
        Packed {
            resolved: answer.resolved,
            installs: out.into_boxed_slice(),
        }
    }

    /// The (string index, distance) pairs; `None` when malformed or an index is not below
    /// `limit`.
    pub(super) fn unpack(&self, limit: usize) -> Option<Vec<(u32, Option<u32>)>> {
        let mut out = Vec::new();
        let (mut pos, mut last) = (0usize, 0u64);
        while pos < self.installs.len() {
            let idx = last.checked_add(get_varint(&self.installs, &mut pos)?)?;
            let d = get_varint(&self.installs, &mut pos)?;
            if idx >= limit as u64 {
                return None;
            }
            let dist = match d {
                0 => None,
                d => Some(u32::try_from(d - 1).ok()?),
            };
            out.push((u32::try_from(idx).ok()?, dist));
            last = idx;
        }
        Some(out)
    }
}

/// The answers remembered for one repo of a build tag.
#[derive(Debug, Clone)]
pub(super) struct Generation {
    pub(super) repo_id: RepoId,
    /// SHA-256 of the repo's `repomd.xml` (hex), as `Repository::checksum`.
    pub(super) checksum: String,
    pub(super) group: Vec<String>,
    pub(super) options: ResolveOptions,
    pub(super) arch: String,
    pub(super) nevras: Interner,
    pub(super) answers: HashMap<Vec<String>, Packed>,
    /// The loaded repo; `None` for a generation read from a file until it is needed.
    pub(super) repo: Option<Repository>,
}

/// A previous answer as the delta wants it, plus its distances by package name.
struct Previous {
    resolution: crate::Resolution,
    distances: HashMap<String, Option<u32>>,
}

impl Generation {
    fn new(
        settings: &MemorySettings,
        repo_id: RepoId,
        repo: &Repository,
        group: &[String],
    ) -> Generation {
        Generation {
            repo_id,
            checksum: repo.checksum().to_owned(),
            group: group.to_vec(),
            options: settings.options,
            arch: settings.arch.clone(),
            nevras: Interner::default(),
            answers: HashMap::new(),
            repo: Some(repo.clone()),
        }
    }

    fn previous(&self, build_requires: &[String]) -> Option<Previous> {
        let packed = self.answers.get(build_requires)?;
        let pairs = packed.unpack(self.nevras.len())?;
        let mut installs = Vec::with_capacity(pairs.len());
        let mut distances = HashMap::with_capacity(pairs.len());
        for (i, d) in pairs {
            let nevra = self.nevras.get(i)?;
            if let Some(name) = crate::nevra_name(nevra) {
                distances.insert(name.to_owned(), d);
            }
            installs.push(nevra.to_owned());
        }
        installs.sort();
        Some(Previous {
            resolution: crate::Resolution {
                resolved: packed.resolved,
                installs,
                problems: Vec::new(),
            },
            distances,
        })
    }

    fn record(&mut self, build_requires: &[String], answer: &Answer) {
        let packed = Packed::pack(&mut self.nevras, answer);
        self.answers.insert(build_requires.to_vec(), packed);
    }

    /// Whether this generation's answers are answers for `repo` with these settings.
    fn fits(&self, settings: &MemorySettings, repo: &Repository) -> bool {
        self.checksum == repo.checksum()
            && self.options == settings.options
            && self.arch == settings.arch
    }
}

/// The memory of one build tag.
#[derive(Debug, Default)]
struct TagMemory {
    current: Option<Generation>,
    old: Option<Generation>,
    /// Why there is no old generation (a reason kind for the counts).
    no_old: &'static str,
    /// A resolver over the current generation's repo: distances, and the new side of `delta`.
    solver: Option<Resolver>,
    /// A resolver over the old generation's repo and the comparison of the two.
    delta: Option<(Resolver, Delta)>,
    /// Answers were added since the file was written.
    dirty: bool,
}

/// Per request: the carried answer, or why it is solved.
type Verdicts = Vec<Result<Answer, &'static str>>;

impl TagMemory {
    /// The memory of `build_tag` as its file left it (empty when missing or unusable).
    fn open(settings: &MemorySettings, build_tag: &str) -> TagMemory {
        let mut tag = TagMemory {
            no_old: "no-previous-repo",
            ..TagMemory::default()
        };
        let Some(path) = memory_file::path(settings, build_tag) else {
            return tag;
        };
        match memory_file::read(&path, settings, build_tag) {
            Ok(Some(g)) => {
                tracing::info!(
                    tag = build_tag,
                    repo = g.repo_id.0,
                    answers = g.answers.len(),
                    "read remembered answers"
                );
                tag.current = Some(g);
            }
            Ok(None) => {
                tracing::info!(tag = build_tag, path = %path.display(), "no remembered answers, the next new repo is resolved fully");
                tag.no_old = "no-memory-file";
            }
            Err(e) => {
                tracing::warn!(tag = build_tag, path = %path.display(), "cannot use remembered answers, the next new repo is resolved fully: {e:#}");
                tag.no_old = "memory-file-unusable";
            }
        }
        tag
    }

    /// Starts a new current generation for `repo`, the previous one becoming the old one
    /// when it can serve.
    fn start(
        &mut self,
        settings: &MemorySettings,
        build_tag: &str,
        generation: Generation,
        previous: Option<Generation>,
        load_old: &mut dyn FnMut(RepoId) -> Option<Repository>,
    ) {
        self.solver = None;
        self.delta = None;
        self.old = None;
        let new_repo = generation.repo_id.0;
        self.current = Some(generation);
        let Some(mut previous) = previous else {
            tracing::info!(
                tag = build_tag,
                repo = new_repo,
                reason = self.no_old,
                "new repo: full resolution"
            );
            return;
        };
        let unusable = if previous.options != settings.options || previous.arch != settings.arch {
            Some("options-changed")
        } else {
            if previous.repo.is_none() {
                previous.repo =
                    load_old(previous.repo_id).filter(|r| r.checksum() == previous.checksum);
            }
            previous
                .repo
                .is_none()
                .then_some("previous-repo-unavailable")
        };
        match unusable {
            None => {
                tracing::info!(
                    tag = build_tag,
                    repo = new_repo,
                    previous = previous.repo_id.0,
                    answers = previous.answers.len(),
                    "new repo: incremental resolution against the previous repo's answers"
                );
                self.old = Some(previous);
            }
            Some(reason) => {
                self.no_old = reason;
                tracing::info!(
                    tag = build_tag,
                    repo = new_repo,
                    previous = previous.repo_id.0,
                    reason,
                    "new repo: full resolution"
                );
            }
        }
    }

    /// Gets the memory ready for requests against `repo`; `Err(reason)` when they are to be
    /// resolved without it (an older repo, or another build group).
    fn prepare(
        &mut self,
        settings: &MemorySettings,
        build_tag: &str,
        repo_id: RepoId,
        repo: &Repository,
        group: &[String],
        load_old: &mut dyn FnMut(RepoId) -> Option<Repository>,
    ) -> Result<(), &'static str> {
        let fresh = || Generation::new(settings, repo_id, repo, group);
        let Some(current) = &mut self.current else {
            self.start(settings, build_tag, fresh(), None, load_old);
            return Ok(());
        };
        if repo_id.0 < current.repo_id.0 {
            return Err("older-repo");
        }
        if repo_id.0 > current.repo_id.0 {
            let previous = self.current.take();
            self.start(settings, build_tag, fresh(), previous, load_old);
            return Ok(());
        }
        if !current.fits(settings, repo) {
            tracing::warn!(
                tag = build_tag,
                repo = repo_id.0,
                "remembered answers do not fit the repo (checksum or options differ), starting over"
            );
            self.no_old = "memory-mismatch";
            self.start(settings, build_tag, fresh(), None, load_old);
            return Ok(());
        }
        if current.group != group {
            return Err("other-build-group");
        }
        if current.repo.is_none() {
            current.repo = Some(repo.clone());
        }
        Ok(())
    }

    /// Which requests carry their old answer over (with distances) and why the others are
    /// solved.
    fn plan(
        &mut self,
        settings: &MemorySettings,
        build_tag: &str,
        repo: &Repository,
        group: &[String],
        requests: &[Vec<String>],
    ) -> Result<Verdicts, SolverError> {
        let TagMemory {
            old,
            no_old,
            solver,
            delta,
            ..
        } = self;
        let Some(old) = old.as_ref() else {
            return Ok(vec![Err(*no_old); requests.len()]);
        };
        let Some(old_repo) = old.repo.as_ref() else {
            return Ok(vec![Err("previous-repo-unavailable"); requests.len()]);
        };
        if old.group != group {
            return Ok(vec![Err("build-group-changed"); requests.len()]);
        }
        let previous: Vec<Option<Previous>> =
            requests.iter().map(|brs| old.previous(brs)).collect();
        if !previous
            .iter()
            .any(|p| p.as_ref().is_some_and(|p| p.resolution.resolved))
        {
            return Ok(previous
                .iter()
                .map(|p| match p {
                    None => Err(crate::Affected::NoPreviousAnswer.kind()),
                    Some(_) => Err(crate::Affected::PreviouslyUnresolved.kind()),
                })
                .collect());
        }
        let new = match solver {
            Some(s) => s,
            None => solver.insert(Resolver::new(&[repo], settings.options)?),
        };
        let (old_solver, delta) = match delta {
            Some(d) => d,
            None => {
                let mut o = Resolver::new(&[old_repo], old.options)?;
                let d = Delta::new(&mut o, new, &old.group, group);
                tracing::info!(
                    tag = build_tag,
                    previous = old.repo_id.0,
                    stats = ?d.stats(),
                    "compared the repo with the previous one"
                );
                delta.insert((o, d))
            }
        };
        Ok(requests
            .iter()
            .zip(previous)
            .map(|(brs, prev)| {
                let carried = delta.carry(
                    old_solver,
                    new,
                    group,
                    brs,
                    prev.as_ref().map(|p| &p.resolution),
                );
                match (carried, prev) {
                    (Ok(r), Some(prev)) => Ok(Answer {
                        resolved: true,
                        installs: r
                            .installs
                            .into_iter()
                            .map(|s| {
                                let d = crate::nevra_name(&s)
                                    .and_then(|n| prev.distances.get(n).copied())
                                    .flatten();
                                (s, d)
                            })
                            .collect(),
                        problems: Vec::new(),
                    }),
                    (Ok(_), None) => Err(crate::Affected::NoPreviousAnswer.kind()),
                    (Err(a), _) => Err(a.kind()),
                }
            })
            .collect())
    }
}

/// The resolver's memory of every build tag it resolved (see the module docs).
#[derive(Debug)]
pub(crate) struct Memory {
    settings: MemorySettings,
    tags: HashMap<String, TagMemory>,
    stats: PassStats,
}

impl Memory {
    /// An empty memory; each tag's file is read when the tag is first resolved.
    pub(crate) fn new(settings: MemorySettings) -> Memory {
        Memory {
            settings,
            tags: HashMap::new(),
            stats: PassStats::default(),
        }
    }

    /// Resolves the build group plus each of `requests` in `repo` (Koji repo `repo_id` of
    /// `build_tag`), carrying remembered answers over where the repo change cannot affect
    /// them. `load_old` loads an older repo of the tag (for a generation read from a file),
    /// `None` when it cannot. Answers are in input order, identical to a full resolution's.
    pub(crate) fn resolve(
        &mut self,
        build_tag: &str,
        repo_id: RepoId,
        repo: &Repository,
        group: &[String],
        requests: &[Vec<String>],
        load_old: &mut dyn FnMut(RepoId) -> Option<Repository>,
    ) -> Result<Vec<Answer>, SolverError> {
        let settings = &self.settings;
        let tag = match self.tags.entry(build_tag.to_owned()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(TagMemory::open(settings, build_tag)),
        };
        self.stats.requests += requests.len();
        if let Err(reason) = tag.prepare(settings, build_tag, repo_id, repo, group, load_old) {
            // Not remembered: a temporary resolver for the distances.
            let mut distances = Resolver::new(&[repo], settings.options)?;
            let answers = solve(settings, build_tag, repo, group, requests, &mut distances)?;
            self.stats.solved += requests.len();
            *self.stats.reasons.entry(reason).or_default() += requests.len();
            return Ok(answers);
        }
        let verdicts = match tag.plan(settings, build_tag, repo, group, requests) {
            Ok(v) => v,
            Err(e) => {
                // The pools could not be loaded (a `.solv` file gone): without the old
                // generation everything is solved, and a new repo's failure shows there.
                tracing::warn!(
                    tag = build_tag,
                    "cannot compare with the previous repo, resolving fully: {e:#}"
                );
                tag.old = None;
                tag.delta = None;
                tag.no_old = "previous-repo-unavailable";
                tag.plan(settings, build_tag, repo, group, requests)?
            }
        };
        let to_solve: Vec<Vec<String>> = requests
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_err())
            .map(|(r, _)| r.clone())
            .collect();
        let distances = match &mut tag.solver {
            Some(s) => s,
            None => tag.solver.insert(Resolver::new(&[repo], settings.options)?),
        };
        let mut solved = solve(settings, build_tag, repo, group, &to_solve, distances)?.into_iter();
        let mut answers = Vec::with_capacity(requests.len());
        for v in verdicts {
            let answer = match v {
                Ok(carried) => {
                    self.stats.carried += 1;
                    carried
                }
                Err(reason) => {
                    self.stats.solved += 1;
                    *self.stats.reasons.entry(reason).or_default() += 1;
                    solved.next().ok_or_else(|| {
                        SolverError::Worker("fewer answers than requests to solve".to_owned())
                    })?
                }
            };
            answers.push(answer);
        }
        if let Some(current) = &mut tag.current {
            for (brs, answer) in requests.iter().zip(&answers) {
                current.record(brs, answer);
            }
            tag.dirty = true;
        }
        Ok(answers)
    }

    /// Ends a pass: when `persist`, writes the current generation of every tag that gained
    /// answers to its file (a failure is logged, never an error); logs and returns what the
    /// pass did, and starts counting afresh.
    pub(crate) fn finish_pass(&mut self, persist: bool) -> PassStats {
        if persist {
            for (name, tag) in &mut self.tags {
                let (Some(current), true) = (&tag.current, tag.dirty) else {
                    continue;
                };
                let Some(path) = memory_file::path(&self.settings, name) else {
                    continue;
                };
                match memory_file::write(&path, &self.settings, name, current) {
                    Ok(bytes) => {
                        tag.dirty = false;
                        tracing::debug!(tag = %name, path = %path.display(), bytes, "remembered answers written");
                    }
                    Err(e) => {
                        tracing::warn!(tag = %name, path = %path.display(), "cannot write remembered answers: {e:#}");
                    }
                }
            }
        }
        let stats = std::mem::take(&mut self.stats);
        if stats.requests > 0 {
            tracing::info!(
                requests = stats.requests,
                solved = stats.solved,
                carried = stats.carried,
                reasons = ?stats.reasons,
                "resolution pass: {stats}"
            );
        }
        stats
    }
}

/// Resolves `requests` fully in `repo` (of `build_tag`) and computes the distances with
/// `distances` (a resolver over `repo`), logging progress at the configured interval.
fn solve(
    settings: &MemorySettings,
    build_tag: &str,
    repo: &Repository,
    group: &[String],
    requests: &[Vec<String>],
    distances: &mut Resolver,
) -> Result<Vec<Answer>, SolverError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let mut answers = vec![None; requests.len()];
    let mut progress = Progress::new(build_tag, requests.len(), settings.progress_interval);
    resolve_all(
        &[repo],
        group,
        requests,
        settings.options,
        settings.jobs,
        |r| {
            answers[r.index] = Some(r.resolution);
            progress.tick("resolving");
        },
    )?;
    let mut progress = Progress::new(build_tag, requests.len(), settings.progress_interval);
    Ok(answers
        .into_iter()
        .zip(requests)
        .map(|(answer, brs)| {
            progress.tick("computing dependency distances in");
            let answer = answer.unwrap_or(crate::Resolution {
                resolved: false,
                installs: Vec::new(),
                problems: vec!["resolution did not run".to_owned()],
            });
            let d = if answer.resolved {
                distances.dependency_distances(brs, &answer.installs)
            } else {
                HashMap::new()
            };
            Answer {
                resolved: answer.resolved,
                installs: answer
                    .installs
                    .into_iter()
                    .map(|s| {
                        let dist = crate::nevra_name(&s).and_then(|n| d.get(n).copied());
                        (s, dist)
                    })
                    .collect(),
                problems: answer.problems,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests;
