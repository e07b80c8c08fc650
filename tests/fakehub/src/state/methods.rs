//! The XML-RPC methods the fake hub implements, with the real hub's argument checks and answer shapes.

use koschei_core::koji::xmlrpc::{Call, Struct};
use koschei_core::koji::{Fault, Value};

use super::{
    Build, RecordedCall, Repo, State, SubmittedBuild, Tag, Target, Task, TaskState, fault,
    is_finished, opt_f, opt_i, st, time_string,
};

impl State {
    pub(super) fn dispatch(
        &mut self,
        call: &Call,
        user: Option<i64>,
        sess: Option<usize>,
    ) -> Result<Value, Fault> {
        let m = call.method.as_str();
        match m {
            "getAPIVersion" => Ok(Value::Int(1)),
            "getKojiVersion" => Ok(Value::from("1.35.3")),
            "echo" => Ok(Value::Array(call.params.clone())),
            "getLastEvent" => Ok(st([
                ("id", Value::Int(self.event)),
                ("ts", Value::Double(self.now())),
            ])),
            "getLoggedInUser" => Ok(
                match user.and_then(|u| self.users.iter().find(|x| x.id == u)) {
                    None => Value::Nil,
                    Some(u) => st([
                        (
                            "authtype",
                            Value::Int(sess.map_or(0, |i| self.sessions[i].authtype)),
                        ),
                        ("id", Value::Int(u.id)),
                        (
                            "krb_principal",
                            sess.and_then(|i| self.sessions[i].krb_principal.clone())
                                .map_or(Value::Nil, Value::from),
                        ),
                        (
                            "krb_principals",
                            Value::Array(
                                sess.and_then(|i| self.sessions[i].krb_principal.clone())
                                    .map(Value::from)
                                    .into_iter()
                                    .collect(),
                            ),
                        ),
                        ("name", Value::from(u.name.as_str())),
                        ("status", Value::Int(0)),
                        ("usertype", Value::Int(0)),
                    ]),
                },
            ),
            // The hub's `Session.logout(session_id=None)`: anonymous callers get `AuthError`;
            // another session may be closed by its owner (or an admin) only.
            "logout" => {
                let Some(i) = sess else {
                    return Err(fault(1002, "Not logged in"));
                };
                let target = match call.param(0, "session_id") {
                    None | Some(Value::Nil) => i,
                    Some(v) => {
                        let id = v.as_i64().ok_or_else(|| param_error("session_id"))?;
                        let owner = self.sessions[i].user;
                        let admin = self
                            .users
                            .iter()
                            .any(|u| u.id == owner && u.name == "kojiadmin");
                        match self.sessions.iter().position(|s| s.id == id) {
                            Some(t) if admin || self.sessions[t].user == owner => t,
                            _ => {
                                return Err(fault(
                                    1004,
                                    "only admins or owner may logout other session",
                                ));
                            }
                        }
                    }
                };
                self.sessions[target].closed = true;
                Ok(Value::Nil)
            }
            "multiCall" | "system.multicall" => self.multicall(call, user, sess),
            "getTag" => {
                let info = arg(call, 0, "tagInfo")?;
                let strict = flag(call, 1, "strict");
                match self.tag_by_value(info) {
                    Some(t) => Ok(self.tag_value(t, false)),
                    None if strict => Err(no_such_tag(info)),
                    None => Ok(Value::Nil),
                }
            }
            "getBuildConfig" => {
                let info = arg(call, 0, "tag")?;
                match self.tag_by_value(info) {
                    Some(t) => Ok(self.tag_value(t, true)),
                    None => Err(no_such_tag(info)),
                }
            }
            "getBuildTarget" => {
                let info = arg(call, 0, "info")?;
                let t = self.targets.iter().find(|t| match info {
                    Value::Int(i) => t.id == *i,
                    Value::String(s) => &t.name == s,
                    _ => false,
                });
                Ok(t.map_or(Value::Nil, |t| self.target_value(t)))
            }
            "getBuildTargets" => Ok(Value::Array(
                self.targets.iter().map(|t| self.target_value(t)).collect(),
            )),
            "getRepo" => {
                let info = arg(call, 0, "tag")?;
                let tag = self.tag_by_value(info).ok_or_else(|| no_such_tag(info))?.id;
                let state = call.param(1, "state").and_then(Value::as_i64).unwrap_or(1);
                let repo = self
                    .repos
                    .iter()
                    .filter(|r| r.tag == tag && r.state == state)
                    .max_by_key(|r| r.id);
                Ok(repo.map_or(Value::Nil, |r| self.repo_value(r)))
            }
            "repoInfo" => {
                let id = int_arg(call, 0, "repo_id")?;
                Ok(self
                    .repos
                    .iter()
                    .find(|r| r.id == id)
                    .map_or(Value::Nil, |r| self.repo_value(r)))
            }
            "getTagGroups" => {
                let info = arg(call, 0, "tag")?;
                let tag = self.tag_by_value(info).ok_or_else(|| no_such_tag(info))?.id;
                Ok(self.groups_value(tag))
            }
            "listTagged" => self.list_tagged(call),
            "getLatestBuilds" => {
                let mut c = Call::new("listTagged")
                    .arg(arg(call, 0, "tag")?.clone())
                    .kwarg("latest", true)
                    .kwarg("inherit", true);
                if let Some(p) = call.param(2, "package") {
                    c = c.kwarg("package", p.clone());
                }
                self.list_tagged(&c)
            }
            "listPackages" => self.list_packages(call),
            "getPackageConfig" => {
                let tag = arg(call, 0, "tag")?;
                let pkg = arg(call, 1, "pkg")?.as_str().unwrap_or("").to_owned();
                let tag = self.tag_by_value(tag).ok_or_else(|| no_such_tag(tag))?.id;
                let entries = self.package_entries(tag, true);
                Ok(entries
                    .into_iter()
                    .find(|v| v.get("package_name").and_then(Value::as_str) == Some(pkg.as_str()))
                    .unwrap_or(Value::Nil))
            }
            "getBuild" => {
                let info = arg(call, 0, "buildInfo")?;
                Ok(self
                    .find_build(info)
                    .map_or(Value::Nil, |b| self.build_value(b)))
            }
            "listBuilds" => {
                let pkg = call.param(0, "packageID").and_then(Value::as_i64);
                let state = call.kwarg_value("state").and_then(Value::as_i64);
                let task = call.kwarg_value("taskID").and_then(Value::as_i64);
                Ok(Value::Array(
                    self.builds
                        .iter()
                        .filter(|b| pkg.is_none_or(|p| b.package_id == p))
                        .filter(|b| state.is_none_or(|s| b.state == s))
                        .filter(|b| task.is_none_or(|t| b.task_id == Some(t)))
                        .map(|b| {
                            let mut v = self.build_value(b);
                            if let Value::Struct(s) = &mut v {
                                for k in ["id", "cg_id", "cg_name"] {
                                    s.remove(k);
                                }
                            }
                            v
                        })
                        .collect(),
                ))
            }
            "listRPMs" => {
                let build = call.param(0, "buildID").and_then(Value::as_i64);
                let arches = call
                    .kwarg_value("arches")
                    .cloned()
                    .or_else(|| call.params.get(5).cloned());
                let want_src = match &arches {
                    None | Some(Value::Nil) => true,
                    Some(Value::String(s)) => s == "src",
                    Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some("src")),
                    _ => false,
                };
                Ok(Value::Array(
                    self.builds
                        .iter()
                        .filter(|b| build.is_none_or(|id| b.id == id) && want_src)
                        .map(|b| self.srpm_value(b))
                        .collect(),
                ))
            }
            "getRPMDeps" => {
                let rpm = arg(call, 0, "rpmID")?;
                let dep_type = call.param(1, "depType").and_then(Value::as_i64);
                let Some(b) = self.find_rpm_build(rpm) else {
                    return Ok(Value::Array(vec![]));
                };
                if dep_type.is_some_and(|t| t != 0) {
                    return Ok(Value::Array(vec![]));
                }
                Ok(Value::Array(
                    b.deps
                        .iter()
                        .map(|(n, f, v)| {
                            st([
                                ("name", Value::from(n.as_str())),
                                ("version", Value::from(v.as_str())),
                                ("flags", Value::Int(*f)),
                                ("type", Value::Int(0)),
                            ])
                        })
                        .collect(),
                ))
            }
            "getRPMHeaders" => {
                let rpm = call.param(0, "rpmID").cloned().unwrap_or(Value::Nil);
                let headers: Vec<String> = call
                    .param(3, "headers")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(b) = self.find_rpm_build(&rpm) else {
                    return Ok(Value::Struct(Struct::new()));
                };
                let mut out = Struct::new();
                for h in headers {
                    let v = match h.as_str() {
                        "BUILDARCHS" => Value::from(b.build_archs.clone()),
                        "EXCLUSIVEARCH" => Value::from(b.exclusive_arch.clone()),
                        "EXCLUDEARCH" => Value::Array(vec![]),
                        "NAME" => Value::from(b.name.as_str()),
                        _ => Value::Nil,
                    };
                    out.insert(h, v);
                }
                Ok(Value::Struct(out))
            }
            "getChannel" => {
                let info = arg(call, 0, "channelInfo")?;
                let ok = matches!(info, Value::String(s) if s == "default")
                    || matches!(info, Value::Int(1));
                Ok(if ok {
                    st([
                        ("comment", Value::Nil),
                        ("description", Value::Nil),
                        ("enabled", Value::Bool(true)),
                        ("id", Value::Int(1)),
                        ("name", Value::from("default")),
                    ])
                } else {
                    Value::Nil
                })
            }
            "listHosts" => {
                let arches: Option<Vec<String>> =
                    call.param(0, "arches").and_then(Value::as_array).map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    });
                Ok(Value::Array(
                    self.hosts
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| {
                            arches.as_ref().is_none_or(|a| {
                                h.arches
                                    .split_whitespace()
                                    .any(|x| a.iter().any(|y| y == x))
                            })
                        })
                        .map(|(i, h)| {
                            st([
                                ("arches", Value::from(h.arches.as_str())),
                                ("capacity", Value::Double(h.capacity)),
                                ("comment", Value::Nil),
                                ("description", Value::Nil),
                                ("enabled", Value::Bool(true)),
                                ("id", Value::Int(i as i64 + 1)),
                                ("name", Value::from(format!("builder{}", i + 1))),
                                ("ready", Value::Bool(h.ready)),
                                ("task_load", Value::Double(h.task_load)),
                                ("update_ts", Value::Double(self.now())),
                                ("user_id", Value::Int(i as i64 + 2)),
                            ])
                        })
                        .collect(),
                ))
            }
            "build" => {
                let Some(owner) = user else {
                    return Err(fault(1004, "you must be logged in for this operation"));
                };
                let src = arg(call, 0, "src")?.as_str().unwrap_or("").to_owned();
                let target = arg(call, 1, "target")?.as_str().map(str::to_owned);
                let opts = call
                    .param(2, "opts")
                    .and_then(Value::as_struct)
                    .cloned()
                    .unwrap_or_default();
                let priority = call.param(3, "priority").and_then(Value::as_i64);
                if let Some(t) = &target
                    && !self.targets.iter().any(|x| &x.name == t)
                {
                    return Err(fault(1000, format!("No such build target: {t}")));
                }
                let request = vec![
                    Value::from(src.as_str()),
                    Value::from(target.clone()),
                    Value::Struct(opts.clone()),
                ];
                let id = self.new_task(
                    "build",
                    "noarch",
                    None,
                    owner,
                    20 + priority.unwrap_or(0),
                    request,
                );
                self.submitted.push(SubmittedBuild {
                    task_id: id,
                    src,
                    target,
                    opts,
                    priority,
                });
                Ok(Value::Int(id))
            }
            "getTaskInfo" => {
                let request = flag(call, 1, "request");
                match arg(call, 0, "task_id")? {
                    Value::Array(ids) => Ok(Value::Array(
                        ids.iter()
                            .map(|i| {
                                i.as_i64()
                                    .and_then(|i| self.task(i))
                                    .map_or(Value::Nil, |t| task_value(t, request))
                            })
                            .collect(),
                    )),
                    v => {
                        let id = v
                            .as_i64()
                            .ok_or_else(|| param_error("task_id must be an int"))?;
                        Ok(self.task(id).map_or(Value::Nil, |t| task_value(t, request)))
                    }
                }
            }
            "getTaskChildren" => {
                let id = int_arg(call, 0, "task_id")?;
                let request = flag(call, 1, "request");
                Ok(Value::Array(
                    self.tasks
                        .iter()
                        .filter(|t| t.parent == Some(id))
                        .rev()
                        .map(|t| task_value(t, request))
                        .collect(),
                ))
            }
            "listTasks" => self.list_tasks(call),
            "getTaskResult" => {
                let id = int_arg(call, 0, "taskId")?;
                let raise = call
                    .param(1, "raise_fault")
                    .map(|v| !matches!(v, Value::Bool(false)))
                    .unwrap_or(true);
                let t = self
                    .task(id)
                    .ok_or_else(|| fault(1000, format!("No such task: {id}")))?;
                match t.state {
                    3 => Err(fault(1000, format!("Task {id} is canceled"))),
                    2 | 5 => match &t.result {
                        Some(Ok(v)) => Ok(v.clone()),
                        Some(Err(f)) if raise => Err(f.clone()),
                        Some(Err(f)) => Ok(f.to_value()),
                        None => Ok(Value::Nil),
                    },
                    _ => Err(fault(1000, format!("Task {id} is not finished"))),
                }
            }
            "cancelTask" => {
                let id = int_arg(call, 0, "task_id")?;
                if user.is_none() {
                    return Err(fault(1004, "you must be logged in for this operation"));
                }
                let t = self
                    .task(id)
                    .ok_or_else(|| fault(1000, format!("No such task: {id}")))?;
                if !is_finished(t.state) {
                    self.finish_task(id, TaskState::Canceled, None);
                }
                Ok(Value::Nil)
            }
            "createTag" => Err(fault(1004, "tag permission required (user not logged in)")),
            _ => Err(fault(1000, format!("Invalid method: {m}"))),
        }
    }

    fn multicall(
        &mut self,
        call: &Call,
        user: Option<i64>,
        sess: Option<usize>,
    ) -> Result<Value, Fault> {
        let items = arg(call, 0, "calls")?
            .as_array()
            .ok_or_else(|| param_error("calls must be an array"))?
            .to_vec();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let method = item
                .get("methodName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let params = item
                .get("params")
                .and_then(Value::as_array)
                .map(<[Value]>::to_vec)
                .unwrap_or_default();
            let c = Call::from_wire(method.clone(), params);
            self.calls.push(RecordedCall {
                method,
                session_id: None,
                callnum: None,
                call: c.clone(),
            });
            let r = if matches!(c.method.as_str(), "multiCall" | "system.multicall") {
                Err(fault(1000, "multicall is not allowed inside multicall"))
            } else {
                check_signature(&c).and_then(|()| self.dispatch(&c, user, sess))
            };
            out.push(match r {
                Ok(v) => Value::Array(vec![v]),
                Err(f) => f.to_value(),
            });
        }
        Ok(Value::Array(out))
    }

    fn task(&self, id: i64) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    fn tag_value(&self, t: &Tag, config: bool) -> Value {
        let arches = if t.arches.is_empty() {
            self.lineage(t.id)
                .iter()
                .filter_map(|i| self.tags.iter().find(|x| x.id == *i))
                .find(|x| !x.arches.is_empty())
                .map(|x| x.arches.clone())
        } else {
            Some(t.arches.clone())
        };
        let mut v = st([
            ("arches", Value::from(arches)),
            ("extra", Value::Struct(t.extra.clone())),
            ("id", Value::Int(t.id)),
            ("locked", Value::Bool(false)),
            ("maven_include_all", Value::Bool(false)),
            ("maven_support", Value::Bool(false)),
            ("name", Value::from(t.name.as_str())),
            ("perm", Value::Nil),
            ("perm_id", Value::Nil),
        ]);
        if config && let Value::Struct(s) = &mut v {
            s.insert(
                "config_inheritance".into(),
                st([
                    ("arches", Value::Nil),
                    ("extra", Value::Struct(Struct::new())),
                ]),
            );
        }
        v
    }

    fn target_value(&self, t: &Target) -> Value {
        st([
            ("build_tag", Value::Int(t.build_tag)),
            ("build_tag_name", Value::from(self.tag_name(t.build_tag))),
            ("dest_tag", Value::Int(t.dest_tag)),
            ("dest_tag_name", Value::from(self.tag_name(t.dest_tag))),
            ("id", Value::Int(t.id)),
            ("name", Value::from(t.name.as_str())),
        ])
    }

    fn repo_value(&self, r: &Repo) -> Value {
        st([
            ("begin_event", Value::Int(r.create_event - 1)),
            ("begin_ts", Value::Double(r.ts - 1.0)),
            ("create_event", Value::Int(r.create_event)),
            ("create_ts", Value::Double(r.ts)),
            ("creation_time", Value::from(time_string(r.ts))),
            ("creation_ts", Value::Double(r.ts)),
            ("custom_opts", Value::Struct(Struct::new())),
            ("dist", Value::Bool(false)),
            ("end_event", Value::Nil),
            ("end_ts", Value::Nil),
            ("id", Value::Int(r.id)),
            (
                "opts",
                st([
                    ("debuginfo", Value::Bool(false)),
                    ("maven", Value::Bool(false)),
                    ("separate_src", Value::Bool(false)),
                    ("src", Value::Bool(false)),
                ]),
            ),
            ("state", Value::Int(r.state)),
            ("state_time", Value::from(time_string(r.ts))),
            ("state_ts", Value::Double(r.ts)),
            ("tag_id", Value::Int(r.tag)),
            ("tag_name", Value::from(self.tag_name(r.tag))),
            ("task_id", Value::Nil),
            ("task_state", Value::Nil),
        ])
    }

    fn groups_value(&self, tag: i64) -> Value {
        let lineage = self.lineage(tag);
        let mut names: Vec<(i64, String, i64)> = Vec::new();
        for t in &lineage {
            for g in self.groups.iter().filter(|g| g.tag == *t) {
                if !names.iter().any(|(_, n, _)| n == &g.group) {
                    names.push((g.group_id, g.group.clone(), g.tag));
                }
            }
        }
        Value::Array(
            names
                .into_iter()
                .map(|(gid, name, gtag)| {
                    let pkgs: Vec<Value> = self
                        .groups
                        .iter()
                        .filter(|g| g.group == name && lineage.contains(&g.tag))
                        .map(|g| {
                            st([
                                ("basearchonly", Value::Nil),
                                ("blocked", Value::Bool(false)),
                                ("group_id", Value::Int(gid)),
                                ("package", Value::from(g.package.as_str())),
                                ("requires", Value::Nil),
                                ("tag_id", Value::Int(g.tag)),
                                ("type", Value::from(g.kind.as_str())),
                            ])
                        })
                        .collect();
                    st([
                        ("biarchonly", Value::Bool(false)),
                        ("blocked", Value::Bool(false)),
                        ("description", Value::Nil),
                        ("display_name", Value::from(name.as_str())),
                        ("exported", Value::Bool(true)),
                        ("group_id", Value::Int(gid)),
                        ("grouplist", Value::Array(vec![])),
                        ("is_default", Value::Nil),
                        ("langonly", Value::Nil),
                        ("name", Value::from(name.as_str())),
                        ("packagelist", Value::Array(pkgs)),
                        ("tag_id", Value::Int(gtag)),
                        ("uservisible", Value::Bool(true)),
                    ])
                })
                .collect(),
        )
    }

    fn list_tagged(&self, call: &Call) -> Result<Value, Fault> {
        let info = arg(call, 0, "tag")?;
        let tag = self.tag_by_value(info).ok_or_else(|| no_such_tag(info))?.id;
        let event = call.param(1, "event").and_then(Value::as_i64);
        let inherit = flag(call, 2, "inherit");
        let latest = flag(call, 4, "latest");
        let package = call
            .param(5, "package")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let tags = if inherit {
            self.lineage(tag)
        } else {
            vec![tag]
        };
        let mut out: Vec<(&Build, i64, i64)> = Vec::new();
        for t in &tags {
            let mut here: Vec<(&Build, i64, i64)> = self
                .builds
                .iter()
                .filter_map(|b| {
                    b.tags
                        .iter()
                        .find(|(bt, _)| bt == t)
                        .map(|(_, ev)| (b, *t, *ev))
                })
                .filter(|(b, _, ev)| {
                    event.is_none_or(|e| *ev <= e) && package.as_ref().is_none_or(|p| &b.name == p)
                })
                .collect();
            here.sort_by_key(|(b, _, ev)| std::cmp::Reverse((*ev, b.id)));
            for item in here {
                if latest && out.iter().any(|(b, _, _)| b.name == item.0.name) {
                    continue;
                }
                out.push(item);
            }
        }
        Ok(Value::Array(
            out.into_iter()
                .map(|(b, t, ev)| {
                    let mut v = self.build_value(b);
                    if let Value::Struct(s) = &mut v {
                        for k in [
                            "cg_id",
                            "cg_name",
                            "completion_ts",
                            "creation_ts",
                            "extra",
                            "promotion_ts",
                            "source",
                            "start_ts",
                        ] {
                            s.remove(k);
                        }
                        s.insert("create_event".into(), Value::Int(ev));
                        s.insert("tag_id".into(), Value::Int(t));
                        s.insert("tag_name".into(), Value::from(self.tag_name(t)));
                    }
                    v
                })
                .collect(),
        ))
    }

    fn package_entries(&self, tag: i64, inherited: bool) -> Vec<Value> {
        let tags = if inherited {
            self.lineage(tag)
        } else {
            vec![tag]
        };
        let mut seen: Vec<i64> = Vec::new();
        let mut out = Vec::new();
        for t in tags {
            for l in self.listings.iter().filter(|l| l.tag == t) {
                if seen.contains(&l.package) {
                    continue;
                }
                seen.push(l.package);
                let name = self
                    .packages
                    .iter()
                    .find(|(id, _)| *id == l.package)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                out.push(st([
                    ("blocked", Value::Bool(l.blocked)),
                    ("extra_arches", Value::Nil),
                    ("owner_id", Value::Int(1)),
                    ("owner_name", Value::from("kojiadmin")),
                    ("package_id", Value::Int(l.package)),
                    ("package_name", Value::from(name)),
                    ("tag_id", Value::Int(t)),
                    ("tag_name", Value::from(self.tag_name(t))),
                ]));
            }
        }
        out
    }

    fn list_packages(&self, call: &Call) -> Result<Value, Fault> {
        let tag = match call.param(0, "tagID") {
            Some(v @ (Value::Int(_) | Value::String(_))) => {
                Some(self.tag_by_value(v).ok_or_else(|| no_such_tag(v))?.id)
            }
            _ => None,
        };
        let inherited = flag(call, 4, "inherited");
        let entries = match tag {
            Some(t) => self.package_entries(t, inherited),
            None => self
                .packages
                .iter()
                .map(|(id, n)| {
                    st([
                        ("package_id", Value::Int(*id)),
                        ("package_name", Value::from(n.as_str())),
                    ])
                })
                .collect(),
        };
        Ok(Value::Array(entries))
    }

    fn find_build(&self, info: &Value) -> Option<&Build> {
        match info {
            Value::Int(i) => self.builds.iter().find(|b| b.id == *i),
            Value::String(s) => self
                .builds
                .iter()
                .find(|b| format!("{}-{}-{}", b.name, b.version, b.release) == *s),
            Value::Struct(_) => self.builds.iter().find(|b| {
                info.get("name").and_then(Value::as_str) == Some(b.name.as_str())
                    && info.get("version").and_then(Value::as_str) == Some(b.version.as_str())
                    && info.get("release").and_then(Value::as_str) == Some(b.release.as_str())
            }),
            _ => None,
        }
    }

    fn find_rpm_build(&self, rpm: &Value) -> Option<&Build> {
        match rpm {
            Value::Int(i) => self.builds.iter().find(|b| b.srpm_id == *i),
            Value::Struct(_) => {
                if rpm
                    .get("arch")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a != "src")
                {
                    return None;
                }
                self.find_build(rpm)
            }
            _ => None,
        }
    }

    fn build_value(&self, b: &Build) -> Value {
        let nvr = format!("{}-{}-{}", b.name, b.version, b.release);
        st([
            ("build_id", Value::Int(b.id)),
            ("cg_id", Value::Nil),
            ("cg_name", Value::Nil),
            ("completion_time", Value::from(time_string(b.ts + 0.5))),
            ("completion_ts", Value::Double(b.ts + 0.5)),
            ("creation_event_id", Value::Int(b.creation_event)),
            ("creation_time", Value::from(time_string(b.ts))),
            ("creation_ts", Value::Double(b.ts)),
            ("draft", Value::Bool(false)),
            ("epoch", opt_i(b.epoch)),
            ("extra", Value::Nil),
            ("id", Value::Int(b.id)),
            ("name", Value::from(b.name.as_str())),
            ("nvr", Value::from(nvr)),
            ("owner_id", Value::Int(1)),
            ("owner_name", Value::from("kojiadmin")),
            ("package_id", Value::Int(b.package_id)),
            ("package_name", Value::from(b.name.as_str())),
            ("promoter_id", Value::Nil),
            ("promoter_name", Value::Nil),
            ("promotion_time", Value::Nil),
            ("promotion_ts", Value::Nil),
            ("release", Value::from(b.release.as_str())),
            ("source", Value::Nil),
            ("start_time", Value::from(time_string(b.ts))),
            ("start_ts", Value::Double(b.ts)),
            ("state", Value::Int(b.state)),
            ("task_id", opt_i(b.task_id)),
            ("version", Value::from(b.version.as_str())),
            ("volume_id", Value::Int(0)),
            ("volume_name", Value::from("DEFAULT")),
        ])
    }

    fn srpm_value(&self, b: &Build) -> Value {
        st([
            ("arch", Value::from("src")),
            ("build_id", Value::Int(b.id)),
            ("buildroot_id", Value::Nil),
            ("buildtime", Value::Int(b.ts as i64)),
            ("draft", Value::Bool(false)),
            ("epoch", opt_i(b.epoch)),
            ("external_repo_id", Value::Int(0)),
            ("external_repo_name", Value::from("INTERNAL")),
            ("extra", Value::Nil),
            ("id", Value::Int(b.srpm_id)),
            ("metadata_only", Value::Bool(false)),
            ("name", Value::from(b.name.as_str())),
            (
                "nvr",
                Value::from(format!("{}-{}-{}", b.name, b.version, b.release)),
            ),
            ("payloadhash", Value::from(format!("{:032x}", b.id * 7919))),
            ("release", Value::from(b.release.as_str())),
            ("size", Value::Int(6758)),
            ("version", Value::from(b.version.as_str())),
        ])
    }
}

/// Python parameter names of the methods the hub implements (from the live hub's `_listapi`).
fn signature(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "getAPIVersion" | "getKojiVersion" | "getLoggedInUser" => &[],
        "getLastEvent" => &["before", "strict"],
        "login" => &["user", "password", "opts", "renew", "exclusive"],
        "sslLogin" => &["proxyuser", "proxyauthtype", "renew", "exclusive"],
        "logout" => &["session_id"],
        "multiCall" | "system.multicall" => &["calls"],
        "getTag" => &["tagInfo", "strict", "event", "blocked"],
        "getBuildConfig" => &["tag", "event"],
        "getBuildTarget" => &["info", "event", "strict"],
        "getBuildTargets" => &["info", "event", "buildTagID", "destTagID", "queryOpts"],
        "getRepo" => &["tag", "state", "event", "dist", "min_event"],
        "repoInfo" => &["repo_id", "strict"],
        "getTagGroups" => &[
            "tag",
            "event",
            "inherit",
            "incl_pkgs",
            "incl_reqs",
            "incl_blocked",
        ],
        "listTagged" => &[
            "tag", "event", "inherit", "prefix", "latest", "package", "owner", "type", "strict",
            "extra", "draft",
        ],
        "getLatestBuilds" => &["tag", "event", "package", "type", "draft"],
        "listPackages" => &[
            "tagID",
            "userID",
            "pkgID",
            "prefix",
            "inherited",
            "with_dups",
            "event",
            "queryOpts",
            "with_owners",
            "with_blocked",
        ],
        "getPackageConfig" => &["tag", "pkg", "event"],
        "getBuild" => &["buildInfo", "strict"],
        "listBuilds" => &[
            "packageID",
            "userID",
            "taskID",
            "prefix",
            "state",
            "volumeID",
            "source",
            "createdBefore",
            "createdAfter",
            "completeBefore",
            "completeAfter",
            "type",
            "typeInfo",
            "queryOpts",
            "pattern",
            "cgID",
            "draft",
        ],
        "listRPMs" => &[
            "buildID",
            "buildrootID",
            "imageID",
            "componentBuildrootID",
            "hostID",
            "arches",
            "queryOpts",
            "draft",
        ],
        "getRPMDeps" => &["rpmID", "depType", "queryOpts", "strict"],
        "getRPMHeaders" => &["rpmID", "taskID", "filepath", "headers", "strict"],
        "getChannel" => &["channelInfo", "strict"],
        "listHosts" => &[
            "arches",
            "channelID",
            "ready",
            "enabled",
            "userID",
            "queryOpts",
        ],
        "build" => &["src", "target", "opts", "priority", "channel"],
        "getTaskInfo" | "getTaskChildren" => &["task_id", "request", "strict"],
        "getTaskResult" => &["taskId", "raise_fault"],
        "listTasks" => &["opts", "queryOpts"],
        "cancelTask" => &["task_id", "recurse"],
        _ => return None,
    })
}

/// Python-style argument checks: too many positional arguments or an unknown keyword is a `ParameterError`.
pub(super) fn check_signature(call: &Call) -> Result<(), Fault> {
    let Some(names) = signature(&call.method) else {
        return Ok(());
    };
    let py = snake(&call.method);
    if call.params.len() > names.len() {
        return Err(param_error(&format!(
            "{py}() takes at most {} positional arguments but {} were given",
            names.len(),
            call.params.len()
        )));
    }
    for (k, _) in &call.kwargs {
        if !names.contains(&k.as_str()) {
            return Err(param_error(&format!(
                "{py}() got an unexpected keyword argument '{k}'"
            )));
        }
        if names
            .iter()
            .position(|n| n == k)
            .is_some_and(|i| i < call.params.len())
        {
            return Err(param_error(&format!(
                "{py}() got multiple values for argument '{k}'"
            )));
        }
    }
    Ok(())
}

fn snake(method: &str) -> String {
    let mut out = String::new();
    for c in method.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn task_value(t: &Task, request: bool) -> Value {
    let mut v = st([
        ("arch", Value::from(t.arch.as_str())),
        ("awaited", Value::Nil),
        ("channel_id", Value::Int(1)),
        (
            "completion_time",
            Value::from(t.completion_ts.map(time_string)),
        ),
        ("completion_ts", opt_f(t.completion_ts)),
        ("create_time", Value::from(time_string(t.create_ts))),
        ("create_ts", Value::Double(t.create_ts)),
        ("host_id", opt_i(t.host_id)),
        ("id", Value::Int(t.id)),
        ("label", Value::from(t.label.clone())),
        ("method", Value::from(t.method.as_str())),
        ("owner", Value::Int(t.owner)),
        ("parent", opt_i(t.parent)),
        ("priority", Value::Int(t.priority)),
        ("start_time", Value::from(t.start_ts.map(time_string))),
        ("start_ts", opt_f(t.start_ts)),
        ("state", Value::Int(t.state)),
        ("waiting", Value::Nil),
        ("weight", Value::Double(1.0)),
    ]);
    if request && let Value::Struct(s) = &mut v {
        s.insert("request".into(), Value::Array(t.request.clone()));
    }
    v
}

fn param_error(text: &str) -> Fault {
    fault(1019, text)
}

fn no_such_tag(info: &Value) -> Fault {
    match info {
        Value::String(s) => fault(1000, format!("No such tagInfo: '{s}'")),
        Value::Int(i) => fault(1000, format!("No such tagInfo: {i}")),
        _ => fault(1000, "Invalid tagInfo"),
    }
}

fn arg<'a>(call: &'a Call, pos: usize, name: &str) -> Result<&'a Value, Fault> {
    call.param(pos, name).ok_or_else(|| {
        param_error(&format!(
            "{}() missing 1 required positional argument: '{name}'",
            call.method
        ))
    })
}

fn int_arg(call: &Call, pos: usize, name: &str) -> Result<i64, Fault> {
    arg(call, pos, name)?.as_i64().ok_or_else(|| {
        param_error(&format!(
            "{}(): argument '{name}' must be an int",
            call.method
        ))
    })
}

fn flag(call: &Call, pos: usize, name: &str) -> bool {
    matches!(call.param(pos, name), Some(Value::Bool(true)))
}
