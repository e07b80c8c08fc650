//! [`KojiApi`] over the XML-RPC [`Client`]: each method is one Koji call or one multicall;
//! client errors become [`KojiError`]: a fault (the call certainly did not take effect)
//! stays a fault, a call given up on a stop request is [`KojiError::Interrupted`], everything
//! else (transport, HTTP status, undecodable answer, a `build` that may have been submitted) is
//! a transport error.

use std::collections::BTreeSet;
use std::time::SystemTime;

use super::api::{Host, Nvra, PackageEntry, RepoInfo, TaggedBuild, TaskInfo};
use super::client::Client;
use super::error::Error;
use super::types::{KojiApi, KojiError, ScratchBuild, Srpm, SrpmNvr};
use super::xmlrpc::Value;
use crate::model::{KojiEventId, KojiTaskId, RepoId};
use crate::schedule::SrpmArchHeaders;

fn convert(method: &str) -> impl FnOnce(Error) -> KojiError + '_ {
    move |err| match err {
        Error::Fault { fault, .. } => KojiError::Fault {
            method: method.to_owned(),
            code: fault.code,
            message: fault.string,
        },
        e @ Error::Interrupted { maybe_done, .. } => KojiError::Interrupted {
            method: method.to_owned(),
            maybe_done,
            source: Box::new(e),
        },
        other => KojiError::Transport {
            method: method.to_owned(),
            source: Box::new(other),
        },
    }
}

fn nvra(srpm: &SrpmNvr) -> Nvra {
    Nvra {
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

impl KojiApi for Client {
    fn latest_repo(&self, build_tag: &str) -> Result<Option<RepoId>, KojiError> {
        let repo = Client::latest_repo(self, build_tag).map_err(convert("getRepo"))?;
        Ok(repo.map(|r| r.id))
    }

    fn repo_info(&self, repo_id: RepoId) -> Result<Option<RepoInfo>, KojiError> {
        Client::repo_info(self, repo_id).map_err(convert("repoInfo"))
    }

    fn build_group(
        &self,
        build_tag: &str,
        group: &str,
        event: KojiEventId,
    ) -> Result<Option<Vec<String>>, KojiError> {
        let groups =
            Client::tag_groups(self, build_tag, Some(event)).map_err(convert("getTagGroups"))?;
        Ok(super::build_group_packages(&groups, group))
    }

    fn rpm_requires(&self, srpms: &[SrpmNvr]) -> Result<Vec<Option<Vec<String>>>, KojiError> {
        let nvras: Vec<Nvra> = srpms.iter().map(nvra).collect();
        Client::rpm_requires(self, &nvras).map_err(convert("getRPMDeps"))
    }

    fn build_arches(&self, build_tag: &str) -> Result<Vec<String>, KojiError> {
        let config = Client::build_config(self, build_tag).map_err(convert("getBuildConfig"))?;
        Ok(config.arch_list())
    }

    fn srpm_arch_headers(&self, srpm: &SrpmNvr) -> Result<Option<SrpmArchHeaders>, KojiError> {
        let headers = Client::rpm_headers(
            self,
            &nvra(srpm),
            &["BUILDARCHS", "EXCLUDEARCH", "EXCLUSIVEARCH"],
        )
        .map_err(convert("getRPMHeaders"))?;
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
        let channel = Client::channel(self, "default")
            .map_err(convert("getChannel"))?
            .ok_or_else(|| {
                convert("getChannel")(Error::UnexpectedResult {
                    method: "getChannel".to_owned(),
                    message: "no channel named `default`".to_owned(),
                })
            })?;
        let arches: Vec<String> = arches.iter().cloned().collect();
        Client::list_hosts(self, &arches, channel.id).map_err(convert("listHosts"))
    }

    fn latest_tagged_builds(
        &self,
        tag: &str,
        package: Option<&str>,
    ) -> Result<Vec<TaggedBuild>, KojiError> {
        Client::list_tagged_latest(self, tag, package).map_err(convert("listTagged"))
    }

    fn latest_srpm(&self, tag: &str, package: &str) -> Result<Option<Srpm>, KojiError> {
        let builds =
            Client::list_tagged_latest(self, tag, Some(package)).map_err(convert("listTagged"))?;
        let Some(build) = builds.into_iter().next() else {
            return Ok(None);
        };
        let rpms = Client::source_rpms(self, build.build_id).map_err(convert("listRPMs"))?;
        let Some(srpm) = rpms.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(Srpm {
            url: srpm.srpm_path(&self.options().srpm_relative_path_root),
            epoch: srpm.epoch,
            nvr: SrpmNvr {
                name: srpm.name,
                version: srpm.version,
                release: srpm.release,
            },
        }))
    }

    fn list_packages(&self, tag: &str) -> Result<Vec<PackageEntry>, KojiError> {
        Client::list_packages(self, tag).map_err(convert("listPackages"))
    }

    fn submit_scratch_build(&self, build: &ScratchBuild) -> Result<KojiTaskId, KojiError> {
        Client::scratch_build(self, build).map_err(convert("build"))
    }

    fn task_info(&self, tasks: &[KojiTaskId]) -> Result<Vec<Option<TaskInfo>>, KojiError> {
        Client::task_infos(self, tasks).map_err(convert("getTaskInfo"))
    }

    fn task_children(&self, tasks: &[KojiTaskId]) -> Result<Vec<Vec<TaskInfo>>, KojiError> {
        let all = Client::tasks_children(self, tasks).map_err(convert("getTaskChildren"))?;
        Ok(all.into_iter().map(Option::unwrap_or_default).collect())
    }

    fn task_faulted(&self, task: KojiTaskId) -> Result<bool, KojiError> {
        match Client::task_result(self, task).map_err(convert("getTaskResult"))? {
            Ok(_) => Ok(false),
            Err(fault) => Ok(super::is_koji_fault(&fault)),
        }
    }

    fn cancel_task(&self, task: KojiTaskId) -> Result<(), KojiError> {
        Client::cancel_task(self, task).map_err(convert("cancelTask"))
    }

    fn hub_time(&self) -> Result<SystemTime, KojiError> {
        let event = Client::last_event(self).map_err(convert("getLastEvent"))?;
        Ok(event.time())
    }

    fn own_build_tasks(&self, after: SystemTime) -> Result<Option<Vec<TaskInfo>>, KojiError> {
        let Some(user) = Client::logged_in_user(self).map_err(convert("getLoggedInUser"))? else {
            return Ok(None);
        };
        Client::build_tasks_since(self, user.id, after)
            .map(Some)
            .map_err(convert("listTasks"))
    }
}
