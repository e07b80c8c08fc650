//! [`KojiPort`] over the real XML-RPC [`crate::koji::Client`]: [`ClientPort`].
//!
//! Each method is one Koji call or one multicall; Koji's dict shapes are turned into the
//! engine's plain structs here, and client errors into [`KojiError`]: a fault (the call
//! certainly did not take effect) stays a fault, everything else (transport, HTTP status,
//! undecodable answer, a `build` that may have been submitted) is a transport error.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use crate::koji::{self, Client, Value};
use crate::model::{KojiTaskId, RepoId, TaskState};
use crate::schedule::{Host, SrpmArchHeaders};

use super::koji_port::{
    ChildTask, KojiError, KojiPort, RepoInfo, ScratchBuild, Srpm, SrpmNvr, TagPackage, TaggedBuild,
    TaskInfo,
};

fn convert(method: &str, err: koji::Error) -> KojiError {
    match err {
        koji::Error::Fault { fault, .. } => KojiError::Fault {
            method: method.to_owned(),
            code: fault.code,
            message: fault.string,
        },
        other => KojiError::Transport {
            method: method.to_owned(),
            source: Box::new(other),
        },
    }
}

fn unexpected(method: &str, message: String) -> KojiError {
    convert(
        method,
        koji::Error::UnexpectedResult {
            method: method.to_owned(),
            message,
        },
    )
}

fn ts(secs: Option<f64>) -> Option<SystemTime> {
    secs.filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s))
}

fn task_id(id: KojiTaskId) -> koji::TaskId {
    koji::TaskId(i64::from(id.0))
}

fn narrow(method: &str, v: i64) -> Result<i32, KojiError> {
    i32::try_from(v).map_err(|_| unexpected(method, format!("id {v} out of range")))
}

fn task_state(method: &str, v: i64) -> Result<TaskState, KojiError> {
    TaskState::from_koji(v).ok_or_else(|| unexpected(method, format!("unknown task state {v}")))
}

fn nvra(srpm: &SrpmNvr) -> koji::Nvra {
    koji::Nvra {
        name: srpm.name.clone(),
        version: srpm.version.clone(),
        release: srpm.release.clone(),
        arch: "src".to_owned(),
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The engine's view of a real Koji hub: the client plus the SRPM path root
/// (`koji_config.srpm_relative_path_root`, `..` in Fedora).
#[derive(Debug)]
pub struct ClientPort {
    client: Client,
    srpm_relative_path_root: String,
    build_opts: koji::Struct,
}

impl ClientPort {
    /// Wraps a client.
    pub fn new(client: Client, srpm_relative_path_root: impl Into<String>) -> ClientPort {
        ClientPort {
            client,
            srpm_relative_path_root: srpm_relative_path_root.into(),
            build_opts: koji::Struct::new(),
        }
    }

    /// Options added to every scratch build (`koji_config.build_opts`).
    pub fn with_build_opts(mut self, build_opts: koji::Struct) -> ClientPort {
        self.build_opts = build_opts;
        self
    }

    /// The wrapped client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl KojiPort for ClientPort {
    fn latest_repo(&self, build_tag: &str) -> Result<Option<RepoId>, KojiError> {
        let repo =
            Client::latest_repo(&self.client, build_tag).map_err(|e| convert("getRepo", e))?;
        repo.map(|r| narrow("getRepo", r.id.0).map(RepoId))
            .transpose()
    }

    fn repo_info(&self, repo_id: RepoId) -> Result<Option<RepoInfo>, KojiError> {
        let info = Client::repo_info(&self.client, koji::RepoId(i64::from(repo_id.0)))
            .map_err(|e| convert("repoInfo", e))?;
        Ok(info.map(|r| RepoInfo {
            state: i32::try_from(r.state).unwrap_or(-1),
            tag_name: r.tag_name.unwrap_or_default(),
            create_event: r.create_event.0,
        }))
    }

    fn build_group(
        &self,
        build_tag: &str,
        group: &str,
        event: i64,
    ) -> Result<Option<Vec<String>>, KojiError> {
        let groups = Client::tag_groups(&self.client, build_tag, Some(koji::EventId(event)))
            .map_err(|e| convert("getTagGroups", e))?;
        Ok(koji::build_group_packages(&groups, group))
    }

    fn rpm_requires(&self, srpms: &[SrpmNvr]) -> Result<Vec<Option<Vec<String>>>, KojiError> {
        let nvras: Vec<koji::Nvra> = srpms.iter().map(nvra).collect();
        self.client
            .rpm_requires(&nvras)
            .map_err(|e| convert("getRPMDeps", e))
    }

    fn build_arches(&self, build_tag: &str) -> Result<Vec<String>, KojiError> {
        let config = Client::build_config(&self.client, build_tag)
            .map_err(|e| convert("getBuildConfig", e))?;
        Ok(config.arch_list())
    }

    fn srpm_arch_headers(&self, srpm: &SrpmNvr) -> Result<Option<SrpmArchHeaders>, KojiError> {
        let headers = Client::rpm_headers(
            &self.client,
            &nvra(srpm),
            &["BUILDARCHS", "EXCLUDEARCH", "EXCLUSIVEARCH"],
        )
        .map_err(|e| convert("getRPMHeaders", e))?;
        if headers.is_empty() {
            return Ok(None);
        }
        Ok(Some(SrpmArchHeaders {
            buildarchs: string_list(headers.get("BUILDARCHS")),
            excludearch: string_list(headers.get("EXCLUDEARCH")),
            exclusivearch: string_list(headers.get("EXCLUSIVEARCH")),
        }))
    }

    fn hosts(&self, arches: &BTreeSet<String>) -> Result<Vec<Host>, KojiError> {
        let channel = Client::channel(&self.client, "default")
            .map_err(|e| convert("getChannel", e))?
            .ok_or_else(|| unexpected("getChannel", "no channel named `default`".to_owned()))?;
        let arches: Vec<String> = arches.iter().cloned().collect();
        let hosts = Client::list_hosts(&self.client, &arches, channel.id)
            .map_err(|e| convert("listHosts", e))?;
        Ok(hosts
            .into_iter()
            .map(|h| Host {
                arches: h.arches,
                capacity: h.capacity,
                task_load: h.task_load,
                ready: h.ready,
            })
            .collect())
    }

    fn latest_tagged_builds(
        &self,
        tag: &str,
        package: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, KojiError> {
        let builds = Client::list_tagged_latest(&self.client, tag, package)
            .map_err(|e| convert("listTagged", e))?;
        builds
            .into_iter()
            .map(|b| {
                Ok(TaggedBuild {
                    package_name: b.name,
                    task_id: b
                        .task_id
                        .map(|t| narrow("listTagged", t.0).map(KojiTaskId))
                        .transpose()?,
                    epoch: b.epoch.and_then(|e| i32::try_from(e).ok()),
                    version: b.version,
                    release: b.release,
                    state: i32::try_from(b.state).unwrap_or(-1),
                })
            })
            .collect()
    }

    fn latest_srpm(&self, tag: &str, package: &str) -> Result<Option<Srpm>, KojiError> {
        let builds = Client::list_tagged_latest(&self.client, tag, Some(package))
            .map_err(|e| convert("listTagged", e))?;
        let Some(build) = builds.into_iter().next() else {
            return Ok(None);
        };
        let rpms = Client::source_rpms(&self.client, build.build_id)
            .map_err(|e| convert("listRPMs", e))?;
        let Some(srpm) = rpms.into_iter().next() else {
            return Ok(None);
        };
        let root = self.srpm_relative_path_root.clone();
        Ok(Some(Srpm {
            url: srpm.srpm_path(&root),
            epoch: srpm.epoch.and_then(|e| i32::try_from(e).ok()),
            nvr: SrpmNvr {
                name: srpm.name,
                version: srpm.version,
                release: srpm.release,
            },
        }))
    }

    fn list_packages(&self, tag: &str) -> Result<Vec<TagPackage>, KojiError> {
        let packages =
            Client::list_packages(&self.client, tag).map_err(|e| convert("listPackages", e))?;
        Ok(packages
            .into_iter()
            .map(|p| TagPackage {
                name: p.package_name,
                blocked: p.blocked,
            })
            .collect())
    }

    fn submit_scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, KojiError> {
        let opts = koji::ScratchBuildOptions {
            arch_override: build.arch_override.as_ref().map(|a| a.join(" ")),
            repo_id: build.repo_id.map(|r| koji::RepoId(i64::from(r.0))),
            extra: self.build_opts.clone(),
        };
        let task = Client::scratch_build(
            &self.client,
            &build.srpm_url,
            build.target.as_deref(),
            &opts,
            i64::from(build.priority),
        )
        .map_err(|e| convert("build", e))?;
        narrow("build", task.0).map(KojiTaskId)
    }

    fn task_info(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError> {
        let ids: Vec<koji::TaskId> = tasks.iter().map(|t| task_id(*t)).collect();
        let infos = self
            .client
            .task_infos(&ids)
            .map_err(|e| convert("getTaskInfo", e))?;
        infos
            .into_iter()
            .map(|i| {
                i.map(|i| {
                    Ok(TaskInfo {
                        state: task_state("getTaskInfo", i.state)?,
                        create_ts: ts(i.create_ts).unwrap_or(SystemTime::UNIX_EPOCH),
                        completion_ts: ts(i.completion_ts),
                    })
                })
                .transpose()
            })
            .collect()
    }

    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<ChildTask>>, KojiError> {
        let ids: Vec<koji::TaskId> = tasks.iter().map(|t| task_id(*t)).collect();
        let all = self
            .client
            .tasks_children(&ids)
            .map_err(|e| convert("getTaskChildren", e))?;
        all.into_iter()
            .map(|children| {
                children
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let repo_id = c
                            .request_repo_id()
                            .map(|r| narrow("getTaskChildren", r.0).map(RepoId))
                            .transpose()?;
                        Ok(ChildTask {
                            id: KojiTaskId(narrow("getTaskChildren", c.id.0)?),
                            state: task_state("getTaskChildren", c.state)?,
                            create_ts: ts(c.create_ts).unwrap_or(SystemTime::UNIX_EPOCH),
                            completion_ts: ts(c.completion_ts),
                            arch: c.label.clone().unwrap_or(c.arch),
                            method: c.method,
                            repo_id,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    fn task_faulted(&self, task: KojiTaskId) -> Result<bool, KojiError> {
        match Client::task_result(&self.client, task_id(task))
            .map_err(|e| convert("getTaskResult", e))?
        {
            Ok(_) => Ok(false),
            Err(fault) => Ok(koji::is_koji_fault(&fault)),
        }
    }

    fn cancel_task(&self, task: KojiTaskId) -> Result<(), KojiError> {
        Client::cancel_task(&self.client, task_id(task)).map_err(|e| convert("cancelTask", e))
    }
}
