//! A tiny name-level resolver for service tests; the scripted Koji is
//! `koschei_fakehub::scripted::ScriptedKoji`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use koschei_core::model::{Nevra, RepoId};
use koschei_core::resolve::{InstalledDep, RepoDescriptor, Resolution, ResolveError, Resolver};
pub(crate) use koschei_fakehub::scripted::{ScriptedKoji as FakeKoji, fault, transport};

/// A name-level resolver: each repo maps package names to a NEVRA and required names.
/// Installs the closure of the build group and the BuildRequires; distances are BFS levels
/// from the BuildRequires (1..4), `None` for group-only packages.
/// Package name → (NEVRA, required names).
pub(crate) type RepoContent = BTreeMap<String, (Nevra, Vec<String>)>;

#[derive(Default)]
pub(crate) struct FakeResolver {
    pub(crate) repos: Mutex<HashMap<RepoId, RepoContent>>,
    /// Runs once during the next resolution (to change the database meanwhile).
    pub(crate) during: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FakeResolver {
    pub(crate) fn add_repo(&self, repo: i32, pkgs: &[(&str, &[&str])]) {
        let map = pkgs
            .iter()
            .map(|(nevra, reqs)| {
                let n = Nevra::parse(nevra).expect("fake repo NEVRA");
                (
                    n.name.clone(),
                    (n, reqs.iter().map(|r| (*r).to_owned()).collect()),
                )
            })
            .collect();
        self.repos.lock().expect("lock").insert(RepoId(repo), map);
    }

    /// The original's test repo 123 (spec section 11).
    pub(crate) fn with_test_repo(repo: i32, c_evr: &str, with_e: bool) -> FakeResolver {
        let r = FakeResolver::default();
        let c = format!("C-{c_evr}.fc22.x86_64");
        let mut pkgs: Vec<(&str, &[&str])> = vec![
            ("A-0:1-1.fc22.x86_64", &["B"]),
            ("B-0:4.1-2.fc22.noarch", &["C"]),
            (c.as_str(), &[]),
            ("D-2:8.b-1.rc1.fc22.x86_64", &["F"]),
            ("F-0:1-1.fc22.noarch", &["B", "C", "E"]),
            ("R-0:3.3-2.fc22.x86_64", &[]),
        ];
        if with_e {
            pkgs.push(("E-0:0.1-1.fc22.1.noarch", &["D"]));
        } else {
            pkgs[4] = ("F-0:1-1.fc22.noarch", &["B", "C"]);
        }
        r.add_repo(repo, &pkgs);
        r
    }
}

impl Resolver for FakeResolver {
    fn resolve_many(
        &mut self,
        repo: &RepoDescriptor,
        build_group: &[String],
        build_requires: &[Vec<String>],
    ) -> Result<Vec<Resolution>, ResolveError> {
        // Package resolutions only (not the buildroot).
        if build_requires.iter().any(|b| !b.is_empty())
            && let Some(f) = self.during.lock().expect("lock").take()
        {
            f();
        }
        let repos = self.repos.lock().expect("lock");
        let Some(pkgs) = repos.get(&repo.repo_id) else {
            return Err(ResolveError::RepoUnavailable {
                build_tag: repo.build_tag.clone(),
                repo_id: repo.repo_id,
            });
        };
        Ok(build_requires
            .iter()
            .map(|brs| {
                let mut problems = BTreeSet::new();
                let mut dist: BTreeMap<String, Option<i32>> = BTreeMap::new();
                let mut level: Vec<String> = Vec::new();
                for br in brs {
                    if pkgs.contains_key(br) {
                        level.push(br.clone());
                    } else {
                        problems.insert(format!("No package found for: {br}"));
                    }
                }
                let mut d = 1;
                while !level.is_empty() {
                    let mut next = Vec::new();
                    for name in level {
                        if dist.contains_key(&name) {
                            continue;
                        }
                        dist.insert(name.clone(), (d < 5).then_some(d));
                        if let Some((_, reqs)) = pkgs.get(&name) {
                            for r in reqs {
                                if pkgs.contains_key(r) {
                                    next.push(r.clone());
                                } else {
                                    problems.insert(format!(
                                        "Problem: nothing provides {r} needed by {name}"
                                    ));
                                }
                            }
                        }
                    }
                    level = next;
                    d += 1;
                }
                let mut stack: Vec<String> = build_group
                    .iter()
                    .filter(|g| pkgs.contains_key(*g))
                    .cloned()
                    .collect();
                while let Some(name) = stack.pop() {
                    if dist.contains_key(&name) {
                        continue;
                    }
                    dist.insert(name.clone(), None);
                    if let Some((_, reqs)) = pkgs.get(&name) {
                        for r in reqs {
                            if pkgs.contains_key(r) {
                                stack.push(r.clone());
                            } else {
                                problems.insert(format!(
                                    "Problem: nothing provides {r} needed by {name}"
                                ));
                            }
                        }
                    }
                }
                if !problems.is_empty() {
                    return Resolution {
                        resolved: false,
                        installs: Vec::new(),
                        problems,
                    };
                }
                let installs = dist
                    .into_iter()
                    .filter_map(|(name, distance)| {
                        pkgs.get(&name).map(|(n, _)| InstalledDep {
                            nevra: n.clone(),
                            distance,
                        })
                    })
                    .collect();
                Resolution {
                    resolved: true,
                    installs,
                    problems,
                }
            })
            .collect())
    }
}
