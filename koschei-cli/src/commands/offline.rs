//! What the offline commands `resolve` and `impact` share: their common
//! arguments, repository and source loading, the progress bar and reading a
//! previous `koschei resolve --json` output for incremental runs.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use koschei_core::Config;
use koschei_solver::{LoadOptions, Repository, Resolution, ResolveOptions, SourcePackage};

use super::remote::{FetchSettings, Fetcher};

/// Arguments shared by `koschei resolve` and `koschei impact`.
#[derive(Debug, clap::Args)]
pub(crate) struct SolveArgs {
    /// Source packages: an rpm-md repository of `src` packages (directory or http(s) URL;
    /// requires = BuildRequires), or `koji:TAG` (the tag's latest builds and their BuildRequires
    /// from Koji, as the engine gets them).
    #[arg(long, value_name = "DIR|URL|koji:TAG")]
    pub(crate) sources: String,
    /// Only these source packages (repeatable).
    #[arg(long = "package", value_name = "NAME")]
    pub(crate) packages: Vec<String>,
    /// Comps group used as the build group.
    #[arg(long, default_value = "build")]
    pub(crate) group: String,
    /// Architecture to resolve for (and of `koji:` repos).
    #[arg(long, default_value = "x86_64")]
    pub(crate) arch: String,
    /// Ignore weak dependencies (Recommends, Supplements).
    #[arg(long)]
    pub(crate) ignore_weak_deps: bool,
    /// Worker threads (default: available cores).
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// One JSON object per source package, then a summary object.
    #[arg(long)]
    pub(crate) json: bool,
    /// Cache directory: `.solv` files, and downloaded repositories under `repodata/`
    /// (default: a `koschei-solv-cache` directory in the temp dir).
    #[arg(long, value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// PEM CA bundle verifying https repositories instead of the system roots (`koji:`
    /// repositories use the Koji hub's CA of the configuration unless this is given).
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// An earlier `koschei resolve --json` output for the old repository:
    /// solve again only the packages the repository change can affect.
    #[arg(long, value_name = "FILE")]
    pub(crate) previous: Option<PathBuf>,
}

impl SolveArgs {
    /// What loads the repositories and sources these arguments name.
    pub(crate) fn fetcher<'a>(&self, config: &'a Config) -> Fetcher<'a> {
        Fetcher::new(
            config,
            FetchSettings {
                cache_dir: self
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| LoadOptions::default().cache_dir),
                ca: self.ca.clone(),
                arch: self.arch.clone(),
                group: self.group.clone(),
            },
        )
    }

    /// The source packages, restricted to `--package` names (each must exist).
    pub(crate) fn sources(&self, fetcher: &mut Fetcher<'_>) -> anyhow::Result<Vec<SourcePackage>> {
        let mut sources = fetcher.sources(&self.sources)?;
        if !self.packages.is_empty() {
            for wanted in &self.packages {
                anyhow::ensure!(
                    sources.iter().any(|s| &s.name == wanted),
                    "no source package `{wanted}` in `{}`",
                    self.sources
                );
            }
            sources.retain(|s| self.packages.contains(&s.name));
        }
        Ok(sources)
    }

    /// Worker threads to use.
    pub(crate) fn jobs(&self) -> usize {
        self.jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Resolver options from the flags.
    pub(crate) fn options(&self) -> ResolveOptions {
        ResolveOptions {
            ignore_weak_deps: self.ignore_weak_deps,
            ..ResolveOptions::default()
        }
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub(crate) struct Progress {
    total: usize,
    shown: bool,
    last: Instant,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Progress {
        Progress {
            total,
            shown: std::io::stderr().is_terminal(),
            last: Instant::now(),
        }
    }

    /// Records that `done` of the total are finished.
    pub(crate) fn update(&mut self, done: usize) {
        if !self.shown || (self.last.elapsed() < Duration::from_millis(100) && done < self.total) {
            return;
        }
        self.last = Instant::now();
        let width = 40 * done / self.total.max(1);
        eprint!(
            "\r[{}{}] {done}/{}",
            "#".repeat(width),
            " ".repeat(40 - width),
            self.total
        );
        if done == self.total {
            eprintln!();
        }
    }
}

/// A previous `koschei resolve --json` output.
#[derive(Debug)]
pub(crate) struct PreviousRun {
    path: PathBuf,
    answers: HashMap<(String, String), Resolution>,
    repo_checksum: Option<String>,
    repo_dir: Option<String>,
    ignore_weak_deps: Option<bool>,
    group: Option<String>,
    arch: Option<String>,
    answers_version: Option<u64>,
}

fn string_list(v: &serde_json::Value, key: &str) -> Option<Vec<String>> {
    v.get(key)?
        .as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

impl PreviousRun {
    /// Reads the file; every line must be a package object or the summary.
    pub(crate) fn read(path: &Path) -> anyhow::Result<PreviousRun> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open previous output `{}`", path.display()))?;
        let mut run = PreviousRun {
            path: path.to_owned(),
            answers: HashMap::new(),
            repo_checksum: None,
            repo_dir: None,
            ignore_weak_deps: None,
            group: None,
            arch: None,
            answers_version: None,
        };
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let at = || format!("`{}` line {}", path.display(), n + 1);
            let line = line.with_context(at)?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&line).with_context(|| format!("{}: not JSON", at()))?;
            if let Some(s) = v.get("summary") {
                let text = |k: &str| s.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                run.repo_checksum = text("repo_checksum");
                run.repo_dir = text("repo");
                run.group = text("group");
                run.arch = text("arch");
                run.ignore_weak_deps = s.get("ignore_weak_deps").and_then(|x| x.as_bool());
                run.answers_version = s.get("answers_version").and_then(|x| x.as_u64());
                continue;
            }
            let parsed = (|| {
                let name = v.get("name")?.as_str()?.to_owned();
                let evr = v.get("evr")?.as_str()?.to_owned();
                let resolved = v.get("resolved")?.as_bool()?;
                let installs = string_list(&v, "installs")?;
                let problems = string_list(&v, "problems")?;
                Some((name, evr, resolved, installs, problems))
            })();
            let Some((name, evr, resolved, installs, problems)) = parsed else {
                anyhow::bail!(
                    "{}: not a `koschei resolve --json` package line (needs name, evr, resolved, installs, problems)",
                    at()
                );
            };
            run.answers.insert(
                (name, evr),
                Resolution {
                    resolved,
                    installs,
                    problems,
                },
            );
        }
        Ok(run)
    }

    /// The file it was read from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The repository directory the previous run resolved against.
    pub(crate) fn repo_dir(&self) -> Option<&str> {
        self.repo_dir.as_deref()
    }

    /// Why the previous answers cannot serve as the old state's answers for
    /// `old` with these settings, or `None` when they can.
    pub(crate) fn mismatch(&self, old: &Repository, args: &SolveArgs) -> Option<String> {
        match &self.repo_checksum {
            None => return Some("it records no repository checksum".to_owned()),
            Some(c) if c != old.checksum() => {
                return Some(format!(
                    "it was made for repository checksum {c}, the old repository has {}",
                    old.checksum()
                ));
            }
            Some(_) => {}
        }
        let current = u64::from(koschei_solver::ANSWERS_VERSION);
        match self.answers_version {
            Some(v) if v == current => {}
            Some(v) => {
                return Some(format!(
                    "it holds answers version {v}, this resolver gives answers version {current}"
                ));
            }
            None => {
                return Some(format!(
                    "it records no answers version (made before version {current})"
                ));
            }
        }
        if self.ignore_weak_deps != Some(args.ignore_weak_deps) {
            return Some("it was made with another --ignore-weak-deps setting".to_owned());
        }
        if self.group.as_deref().is_some_and(|g| g != args.group) {
            return Some("it was made with another --group".to_owned());
        }
        if self.arch.as_deref().is_some_and(|a| a != args.arch) {
            return Some("it was made with another --arch".to_owned());
        }
        None
    }

    /// The previous answer for each source package (same name and EVR).
    pub(crate) fn answers_for<'a>(
        &'a self,
        sources: &[SourcePackage],
    ) -> Vec<Option<&'a Resolution>> {
        sources
            .iter()
            .map(|s| self.answers.get(&(s.name.clone(), s.evr())))
            .collect()
    }
}
